package dev.statewright.etcd;

import dev.statewright.cache.CacheListener;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A listener that lets a test wait, without polling, until a key has a client built from a
 * version at least as new as it names.
 */
final class BuildsSeen implements CacheListener<String> {
  private record Waiter(String key, long minVersion, CompletableFuture<Void> built) { }

  private final Map<String, Long> newest = new ConcurrentHashMap<>();
  private final List<Waiter> waiters = new CopyOnWriteArrayList<>();

  @Override
  public void onBuildFinished(String key, long version, long nanos, Throwable error) {
    if (error == null) {
      newest.merge(key, version, Math::max);
      waiters.forEach(this::completeIfBuilt);
    }
  }

  /** Completes once {@code key} has had a client built from {@code minVersion} or newer. */
  CompletableFuture<Void> built(String key, long minVersion) {
    Waiter waiter = new Waiter(key, minVersion, new CompletableFuture<>());
    waiters.add(waiter);
    completeIfBuilt(waiter); // a build that finished before the waiter was added
    return waiter.built();
  }

  private void completeIfBuilt(Waiter waiter) {
    if (newest.getOrDefault(waiter.key(), 0L) >= waiter.minVersion()) {
      waiter.built().complete(null);
      waiters.remove(waiter);
    }
  }
}
