package dev.statewright.event;

import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Calls a lister at a fixed interval and delivers what changed: the first listing as a
 * {@code resync}, then an {@code upsert} per new or changed entry, and a {@code resync} whenever a
 * key has vanished (so the sink deletes it at the version it knew). A lister that throws is logged
 * and asked again at the next interval; the source never stops on its own. A sink that throws
 * (breaking its contract) is logged alike, and the next listing reaches it as a {@code resync}.
 *
 * <p>Progress: after each listing the source reports {@linkplain EventSink#progress progress} at
 * the highest version listed so far. That is sound when versions come from one counter for the
 * whole store (a database sequence, a store revision) and each listing is a consistent snapshot: a
 * listing then holds every change up to its highest version. A store whose last change was a delete
 * reaches that delete's version only with the next change listed.
 *
 * @param <K> the key type
 * @param <S> the spec type
 */
public final class PollingEventSource<K, S> implements EventSource<K, S> {
  /*
   * Overview: each poll lists, diffs against the last listing, delivers the changes, and
   * schedules the next poll after the interval.
   *
   * Concurrency: polls run one at a time, each scheduling the next when it ends, so `previous`
   * is confined to the polling task; `closed` and `timer` are volatile for close(). A poll
   * delivers holding `delivering` and only if not closed; close() sets `closed`, then takes and
   * drops that lock: once it returns, nothing more reaches the sink (a sink that closes the source
   * from inside a delivery holds the lock already; the delivery checks `closed` before each call).
   *
   * Transitions: new -> started (start) -> closed (close, idempotent; also before start).
   *
   * Ordering of this file: fields, the factory, the EventSource methods, polling.
   */
  private static final System.Logger LOG = System.getLogger(PollingEventSource.class.getName());

  private final String name;
  private final Callable<? extends Map<K, Versioned<S>>> lister;
  private final Duration interval;
  private final Scheduler scheduler;
  private final ReentrantLock delivering = new ReentrantLock();
  private Map<K, Versioned<S>> previous; // confined to the polling task
  private long highest; // confined to the polling task: the highest version listed
  private volatile EventSink<K, S> sink;
  private volatile Scheduler.Cancellable timer = () -> { };
  private volatile boolean closed;

  private PollingEventSource(String name, Callable<? extends Map<K, Versioned<S>>> lister,
      Duration interval, Scheduler scheduler) {
    this.name = name;
    this.lister = lister;
    this.interval = interval;
    this.scheduler = scheduler;
  }

  /**
   * A source named {@code name} polling {@code lister} every {@code interval}.
   *
   * @param <K> the key type
   * @param <S> the spec type
   * @param name a name for logs and {@code toString}
   * @param lister lists every key with its spec and version; called on the scheduler, one call at
   *     a time; a throw is logged and the listing tried again after {@code interval}
   * @param interval the time from the end of one listing to the start of the next; positive
   * @param scheduler runs the listings and times the interval
   * @return a source that polls once started
   * @throws NullPointerException if any argument is null
   * @throws IllegalArgumentException if {@code interval} is zero or negative
   */
  public static <K, S> PollingEventSource<K, S> of(String name,
      Callable<? extends Map<K, Versioned<S>>> lister, Duration interval, Scheduler scheduler) {
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("polling interval must be positive, got " + interval);
    }
    return new PollingEventSource<>(Objects.requireNonNull(name, "name"),
        Objects.requireNonNull(lister, "lister"), interval,
        Objects.requireNonNull(scheduler, "scheduler"));
  }

  @Override
  public void start(EventSink<K, S> sink) {
    if (this.sink != null) {
      throw new IllegalStateException(this + " is already started");
    }
    this.sink = Objects.requireNonNull(sink, "sink");
    scheduler.execute(this::poll);
  }

  @Override
  public void close() {
    closed = true;
    delivering.lock(); // waits for a delivery under way: none starts after this
    delivering.unlock();
    timer.cancel();
  }

  private void poll() {
    if (closed) {
      return;
    }
    try {
      Map<K, Versioned<S>> listing = Map.copyOf(lister.call());
      delivering.lock();
      try {
        if (!closed) { // closed while listing (by the lister itself, say): not delivered
          deliver(listing);
        }
      } finally {
        delivering.unlock();
      }
    } catch (Throwable t) { // any Throwable: the source never stops on its own
      LOG.log(System.Logger.Level.WARNING, this + ": listing failed (" + t + "); trying again in "
          + interval);
    }
    if (!closed) {
      timer = scheduler.schedule(this::poll, interval);
    }
  }

  /**
   * Tells the sink what changed since the last delivery, stopping at once if the sink closes the
   * source. The last listing is forgotten until this one is delivered whole, so after a sink that
   * threw part way the next poll resyncs: the source cannot know what that sink took in.
   */
  private void deliver(Map<K, Versioned<S>> current) {
    Map<K, Versioned<S>> last = previous;
    previous = null;
    if (last == null || !current.keySet().containsAll(last.keySet())) {
      sink.resync(current);
    } else {
      for (Map.Entry<K, Versioned<S>> e : current.entrySet()) {
        if (closed) {
          return; // the sink closed its source: told nothing more
        }
        if (!e.getValue().equals(last.get(e.getKey()))) {
          sink.upsert(e.getKey(), e.getValue().value(), e.getValue().version());
        }
      }
    }
    if (closed) {
      return;
    }
    previous = new HashMap<>(current);
    current.values().forEach(v -> highest = Math.max(highest, v.version()));
    sink.progress(highest);
  }

  /**
   * Whether this source reports progress: every listing does.
   *
   * @return true
   */
  @Override
  public boolean reportsProgress() {
    return true;
  }

  @Override
  public String toString() {
    return "PollingEventSource[" + name + " every " + interval + "]";
  }
}
