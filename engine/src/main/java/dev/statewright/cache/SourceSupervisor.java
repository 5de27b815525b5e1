package dev.statewright.cache;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.time.Scheduler;
import java.util.List;
import java.util.function.IntFunction;

/** Starts a cache's sources and restarts, with backoff, any whose {@code start} throws. */
final class SourceSupervisor<K, S> {
  private static final System.Logger LOG = System.getLogger(SourceSupervisor.class.getName());

  private final String cacheName;
  private final List<EventSource<K, S>> sources;
  private final IntFunction<EventSink<K, S>> sinks;
  private final Scheduler scheduler;
  private final Backoff backoff;
  private volatile boolean closed;

  /** {@code sinks} makes the sink of the i-th source (from 1), so each source has its own origin. */
  SourceSupervisor(String cacheName, List<EventSource<K, S>> sources,
      IntFunction<EventSink<K, S>> sinks, Scheduler scheduler, Backoff backoff) {
    this.cacheName = cacheName;
    this.sources = List.copyOf(sources);
    this.sinks = sinks;
    this.scheduler = scheduler;
    this.backoff = backoff;
  }

  void startAll() {
    for (int i = 0; i < sources.size(); i++) {
      start(sources.get(i), sinks.apply(i + 1), 0);
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
}
