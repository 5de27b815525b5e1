package dev.statewright.cache.attack;

import dev.statewright.cache.CacheListener;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.lifecycle.Transition;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A listener that counts the transitions it is told of, by event, and lets a test wait (with a
 * timeout, never a sleep) until an event was told a number of times.
 */
class Events implements CacheListener<String> {
  private final Map<EntryEvent, Integer> counts = new EnumMap<>(EntryEvent.class);
  private final List<Waiting> waiting = new ArrayList<>();

  private record Waiting(EntryEvent event, int count, CompletableFuture<Void> reached) { }

  @Override
  public synchronized void onTransition(String key, Transition<EntryState, EntryEvent> t) {
    int now = counts.merge(t.event(), 1, Integer::sum);
    waiting.removeIf(w -> {
      if (w.event() == t.event() && now >= w.count()) {
        w.reached().complete(null);
        return true;
      }
      return false;
    });
  }

  private int started;
  private int finished;
  private final List<CompletableFuture<Void>> settling = new ArrayList<>();

  @Override
  public synchronized void onBuildStarted(String key, long version) {
    started++;
  }

  @Override
  public synchronized void onBuildFinished(String key, long version, long nanos, Throwable error) {
    finished++;
    if (finished >= started) {
      settling.forEach(f -> f.complete(null));
      settling.clear();
    }
  }

  /** Waits until every factory call started so far was told finished (its permit is back). */
  void awaitBuildsSettled() throws Exception {
    CompletableFuture<Void> settled = new CompletableFuture<>();
    synchronized (this) {
      if (finished >= started) {
        return;
      }
      settling.add(settled);
    }
    settled.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  synchronized int count(EntryEvent event) {
    return counts.getOrDefault(event, 0);
  }

  /** Waits until {@code event} was told at least {@code count} times in all. */
  void await(EntryEvent event, int count) throws Exception {
    CompletableFuture<Void> reached = new CompletableFuture<>();
    synchronized (this) {
      if (counts.getOrDefault(event, 0) >= count) {
        return;
      }
      waiting.add(new Waiting(event, count, reached));
    }
    try {
      reached.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no " + count + " x " + event + " in " + Kit.WAIT + "; counts "
          + snapshot(), e);
    }
  }

  synchronized Map<EntryEvent, Integer> snapshot() {
    return Map.copyOf(counts);
  }
}
