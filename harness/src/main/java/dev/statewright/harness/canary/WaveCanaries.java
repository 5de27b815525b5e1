package dev.statewright.harness.canary;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.Wave;
import dev.statewright.harness.cache.WaveProperty;
import dev.statewright.harness.cache.WaveProperty.Client;
import dev.statewright.harness.cache.WaveProperty.Spec;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The rebuild-wave bug classes (C14) the harness must keep finding. */
final class WaveCanaries {
  private WaveCanaries() { }

  static List<Canary> all() {
    return List.of(
        Canary.ofWave("wave-ignores-failed-canary", "a rollout that waits for its canaries but "
            + "rebuilds the whole wave even when one failed", new WaveProperty(
                "canary wave-ignores-failed-canary", new IgnoresFailedCanary()), "C14: canary:"),
        Canary.ofWave("wave-exceeds-rate", "a wave whose bucket refills twice as fast as its rate",
            new WaveProperty("canary wave-exceeds-rate", new DoubleRate()), "C14: rate:"));
  }

  /** The engine's wave, built with twice the rate the run asks for. */
  private static final class DoubleRate implements WaveProperty.Rollout {
    @Override
    public Wave engineWave(Wave wanted) {
      return Wave.canaryFirst(wanted.canaries())
          .thenAtMost(2 * wanted.builds(), wanted.per().orElseThrow());
    }

    @Override
    public CompletableFuture<Void> secretChanged(ClientCache<String, Spec, Client> cache,
        List<String> keys, Scheduler scheduler, Wave wanted) {
      return cache.dependencyChanged(WaveProperty.SECRET);
    }
  }

  /**
   * Canaries first, one key at a time through each key's own dependency, then the rest at the
   * rate once the canaries settled, however they settled.
   */
  private static final class IgnoresFailedCanary implements WaveProperty.Rollout {
    @Override
    public Wave engineWave(Wave wanted) {
      return Wave.all();
    }

    @Override
    public CompletableFuture<Void> secretChanged(ClientCache<String, Spec, Client> cache,
        List<String> keys, Scheduler scheduler, Wave wanted) {
      int n = Math.min(wanted.canaries(), keys.size());
      List<CompletableFuture<Void>> all = new ArrayList<>();
      List<CompletableFuture<Void>> canaries = new ArrayList<>();
      for (String key : keys.subList(0, n)) {
        canaries.add(cache.dependencyChanged(WaveProperty.own(key)));
      }
      all.addAll(canaries);
      CompletableFuture<Void> rest = new CompletableFuture<>();
      CompletableFuture.allOf(canaries.stream().map(f -> f.handle((v, e) -> null))
          .toArray(CompletableFuture<?>[]::new))
          .thenRun(() -> window(cache, keys.subList(n, keys.size()), scheduler, wanted, rest));
      all.add(rest);
      return CompletableFuture.allOf(all.toArray(CompletableFuture<?>[]::new));
    }

    private void window(ClientCache<String, Spec, Client> cache, List<String> keys,
        Scheduler scheduler, Wave wanted, CompletableFuture<Void> done) {
      int now = Math.min(wanted.builds(), keys.size());
      for (String key : keys.subList(0, now)) {
        cache.dependencyChanged(WaveProperty.own(key));
      }
      List<String> later = keys.subList(now, keys.size());
      if (later.isEmpty()) {
        done.complete(null);
      } else {
        scheduler.schedule(() -> window(cache, later, scheduler, wanted, done),
            wanted.per().orElse(Duration.ZERO));
      }
    }
  }
}
