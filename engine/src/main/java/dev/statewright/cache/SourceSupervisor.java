package dev.statewright.cache;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.time.Scheduler;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The source-to-cache edge: starts a cache's sources, each with its own {@link Sink}, and
 * restarts, with backoff, any whose {@code start} throws. A sink never throws back into its source.
 *
 * @param <K> the key type
 * @param <S> the spec type
 */
final class SourceSupervisor<K, S> {
  /*
   * Overview: source i (from 1) delivers to a Sink of origin i, which checks each event and hands
   * it to the cache's Events; the origin lets a source's resync delete only its own keys and
   * lets consistent reads follow its progress.
   *
   * Concurrency: sources call their sinks from any thread, concurrently; a Sink keeps no state
   * but its origin. `closed` is volatile: once close() has set it, no source is (re)started and
   * sinks drop events. A restart is scheduled on the Scheduler, never run inline.
   *
   * Transitions: started -> (start threw -> restart after backoff)* -> closed (terminal).
   *
   * Ordering of this file: the events interface, fields, start and close, the sink.
   */

  /** What a sink delivers to: the cache's event handling, for events from source {@code origin}. */
  interface Events<K, S> {
    void upsert(K key, S spec, long version, int origin);

    void delete(K key, long version);

    void resync(Map<K, Versioned<S>> all, int origin, long asOfVersion);

    void progress(int origin, long version);

    void reject(K key, Exception problem);

    void dependencyChanged(Object dependency);

    boolean closed();
  }

  /** A resync that did not say as of which version it is. */
  static final long UNKNOWN = -1;
  private static final System.Logger LOG = System.getLogger(SourceSupervisor.class.getName());

  private final String cacheName;
  private final List<EventSource<K, S>> sources;
  private final Events<K, S> events;
  private final Scheduler scheduler;
  private final Backoff backoff;
  private volatile boolean closed;

  SourceSupervisor(String cacheName, List<EventSource<K, S>> sources, Events<K, S> events,
      Scheduler scheduler, Backoff backoff) {
    this.cacheName = cacheName;
    this.sources = List.copyOf(sources);
    this.events = events;
    this.scheduler = scheduler;
    this.backoff = backoff;
  }

  // ---------------------------------------------------------------- start and close

  void startAll() {
    for (int i = 0; i < sources.size(); i++) {
      start(sources.get(i), new Sink(i + 1), 0);
    }
  }

  void close() {
    closed = true;
    for (EventSource<K, S> source : sources) {
      try {
        source.close();
      } catch (Throwable t) {
        LOG.log(System.Logger.Level.WARNING, () -> cacheName + ": closing " + source + " failed", t);
      }
    }
  }

  private void start(EventSource<K, S> source, EventSink<K, S> sink, int failures) {
    if (closed) {
      return;
    }
    try {
      source.start(sink);
    } catch (Throwable e) { // an Error too: a source is restarted whatever it threw
      int attempt = failures + 1;
      var delay = backoff.delay(attempt, scheduler.random());
      LOG.log(System.Logger.Level.WARNING, () -> cacheName + ": " + source + " failed to start ("
          + e + "); restarting in " + delay);
      scheduler.schedule(() -> start(source, sink, attempt), delay);
    }
  }

  // ---------------------------------------------------------------- the sink

  /** What one source delivers to: never throws back into it. Origins 1, 2, … in source order. */
  private final class Sink implements EventSink<K, S> {
    private final int origin;

    Sink(int origin) {
      this.origin = origin;
    }

    @Override
    public void upsert(K key, S spec, long version) {
      guarded("upsert", key, () -> events.upsert(Arguments.key(key),
          Objects.requireNonNull(spec, "spec"), Arguments.version(version, key), origin));
    }

    @Override
    public void delete(K key, long version) {
      guarded("delete", key, () -> events.delete(Arguments.key(key),
          Arguments.version(version, key)));
    }

    @Override
    public void resync(Map<K, Versioned<S>> all) {
      guarded("resync", null, () -> events.resync(Arguments.copyOf(all), origin, UNKNOWN));
    }

    @Override
    public void resync(Map<K, Versioned<S>> all, long asOfVersion) {
      guarded("resync", null, () -> events.resync(Arguments.copyOf(all), origin,
          Arguments.version(asOfVersion, "resync")));
    }

    @Override
    public void progress(long version) {
      guarded("progress report at " + version, null, () -> events.progress(origin,
          Arguments.version(version, "progress")));
    }

    @Override
    public void reject(K key, Exception problem) {
      guarded("reject", key, () -> events.reject(Arguments.key(key),
          Objects.requireNonNull(problem, "problem")));
    }

    @Override
    public void dependencyChanged(Object dependency) {
      guarded("dependency change", null, () -> events.dependencyChanged(
          Objects.requireNonNull(dependency, "dependency")));
    }

    /** Runs one event; a bad one is logged and, if it names a key, recorded against it. */
    private void guarded(String what, K key, Runnable event) {
      if (events.closed()) {
        return;
      }
      try {
        event.run();
      } catch (Throwable t) {
        LOG.log(System.Logger.Level.WARNING, () -> cacheName + ": ignored a bad " + what
            + (key == null ? "" : " of '" + key + "'") + " from a source: " + t);
        if (key != null) {
          recordBad(what, key, t);
        }
      }
    }

    private void recordBad(String what, K key, Throwable t) {
      try {
        events.reject(key, t instanceof Exception e ? e
            : new IllegalArgumentException("bad " + what + " of '" + key + "': " + t, t));
      } catch (Throwable again) {
        LOG.log(System.Logger.Level.WARNING, () -> cacheName + ": recording a bad event failed",
            again);
      }
    }
  }
}
