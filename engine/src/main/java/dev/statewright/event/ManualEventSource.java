package dev.statewright.event;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A source fed by code: events given before {@link #start} are kept, in order, and delivered when
 * it starts; events given after {@link #close} are refused.
 *
 * <p>Memory consistency effects: actions in a thread prior to giving an event
 * <i>happen-before</i> its delivery to the sink.
 *
 * @param <K> the key type
 * @param <S> the spec type
 */
public final class ManualEventSource<K, S> implements EventSource<K, S>, EventSink<K, S> {
  /*
   * Overview: events given before start are queued as closures over the sink and replayed, in
   * order, by start; after that each event is delivered at once; after close, refused.
   *
   * Concurrency: one monitor (`lock`) guards the queue, the sink, `closed` and the store version.
   * Delivery runs under it, deliberately: it is what keeps events from several threads in the
   * order they were given, which a source promises its sink (the cache never blocks in a sink
   * call: its user code runs isolated and its waits are futures). The cost is that events from
   * concurrent callers are delivered one at a time, which is what a programmatic test source
   * wants. A sink that calls back into this source on the same thread re-enters the monitor.
   *
   * Transitions (guarded by lock): NEW (queueing) -> STARTED (delivering) -> CLOSED (refusing);
   * NEW -> CLOSED too. CLOSED is terminal; a second start fails.
   *
   * Ordering of this file: fields, start, the events, progress and the store version, close,
   * delivery.
   */
  private final Object lock = new Object();
  private final List<Consumer<EventSink<K, S>>> pending = new ArrayList<>(); // guarded by lock
  private EventSink<K, S> sink; // guarded by lock
  private boolean closed; // guarded by lock
  private long storeVersion = -1; // guarded by lock; -1 until the test sets one

  /** A source with nothing to deliver yet. */
  public ManualEventSource() { }

  @Override
  public void start(EventSink<K, S> sink) {
    synchronized (lock) {
      if (this.sink != null) {
        throw new IllegalStateException("this ManualEventSource is already started");
      }
      this.sink = sink;
      List<Consumer<EventSink<K, S>>> backlog = List.copyOf(pending);
      pending.clear();
      for (Consumer<EventSink<K, S>> event : backlog) {
        if (closed) {
          break; // the sink closed this source: it is told nothing more
        }
        event.accept(sink);
      }
    }
  }

  @Override
  public void upsert(K key, S spec, long version) {
    give(sink -> sink.upsert(key, spec, version));
  }

  @Override
  public void delete(K key, long version) {
    give(sink -> sink.delete(key, version));
  }

  @Override
  public void resync(Map<K, Versioned<S>> all) {
    Map<K, Versioned<S>> copy = Map.copyOf(all);
    give(sink -> sink.resync(copy));
  }

  @Override
  public void resync(Map<K, Versioned<S>> all, long asOfVersion) {
    Map<K, Versioned<S>> copy = Map.copyOf(all);
    give(sink -> sink.resync(copy, asOfVersion));
  }

  @Override
  public void reject(K key, Exception problem) {
    give(sink -> sink.reject(key, problem));
  }

  @Override
  public void dependencyChanged(Object dependency) {
    give(sink -> sink.dependencyChanged(dependency));
  }

  @Override
  public void progress(long version) {
    give(sink -> sink.progress(version));
  }

  /**
   * Whether this source reports progress: it does whenever its caller does.
   *
   * @return true
   */
  @Override
  public boolean reportsProgress() {
    return true;
  }

  /**
   * Sets what {@link #currentVersion()} answers from now on, as a store that has moved on would.
   *
   * @param version the store's current version
   */
  public void storeVersion(long version) {
    synchronized (lock) {
      storeVersion = Math.max(storeVersion, version);
    }
  }

  /**
   * The store's current version, as the test set it.
   *
   * @return the highest {@link #storeVersion(long)} given; fails unsupported before the first
   */
  @Override
  public CompletableFuture<Long> currentVersion() {
    synchronized (lock) {
      return storeVersion < 0 ? EventSource.super.currentVersion()
          : CompletableFuture.completedFuture(storeVersion);
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      pending.clear();
    }
  }

  private void give(Consumer<EventSink<K, S>> event) {
    synchronized (lock) { // delivery under the lock keeps events in the order they were given
      if (closed) {
        throw new IllegalStateException("this ManualEventSource is closed");
      }
      if (sink == null) {
        pending.add(event);
      } else {
        event.accept(sink);
      }
    }
  }

  @Override
  public String toString() {
    return "ManualEventSource";
  }
}
