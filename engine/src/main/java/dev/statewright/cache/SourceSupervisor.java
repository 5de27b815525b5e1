package dev.statewright.cache;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.time.Scheduler;
import java.util.List;

/** Starts a cache's sources and restarts, with backoff, any whose {@code start} throws. */
final class SourceSupervisor<K, S> {
  private static final System.Logger LOG = System.getLogger(SourceSupervisor.class.getName());

  private final String cacheName;
  private final List<EventSource<K, S>> sources;
  private final EventSink<K, S> sink;
  private final Scheduler scheduler;
  private final Backoff backoff;
  private volatile boolean closed;

  SourceSupervisor(String cacheName, List<EventSource<K, S>> sources, EventSink<K, S> sink,
      Scheduler scheduler, Backoff backoff) {
    this.cacheName = cacheName;
    this.sources = List.copyOf(sources);
    this.sink = sink;
    this.scheduler = scheduler;
    this.backoff = backoff;
  }

  void startAll() {
    sources.forEach(source -> start(source, 0));
  }

  void close() {
    closed = true;
    for (EventSource<K, S> source : sources) {
      try {
        source.close();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, () -> cacheName + ": closing " + source + " failed", e);
      }
    }
  }

  private void start(EventSource<K, S> source, int failures) {
    if (closed) {
      return;
    }
    try {
      source.start(sink);
    } catch (RuntimeException e) {
      int attempt = failures + 1;
      var delay = backoff.delay(attempt, scheduler.random());
      LOG.log(System.Logger.Level.WARNING, () -> cacheName + ": " + source + " failed to start ("
          + e + "); restarting in " + delay);
      scheduler.schedule(() -> start(source, attempt), delay);
    }
  }
}
