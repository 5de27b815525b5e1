package dev.statewright.cache;

import static dev.statewright.cache.TestClients.versioned;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Item 3 of the liveness issue, on real threads: factories (blocking and asynchronous, some
 * completing at once), listeners and closers call back into the cache (upsert, delete, acquire,
 * list, dependencyChanged and, rarely, close) while writers race them. Nothing may deadlock or
 * spin, and every client built is closed exactly once. Seeded; the seed is printed, and each
 * callback's choice is a function of the seed, its key and version.
 */
class CacheReentrancyStressTest {
  private static final int ROUNDS = 12;
  private static final int WRITERS = 3;
  /**
   * Reentrant calls per round. A callback that rebuilds what it is called back for (a closer
   * calling dependencyChanged) makes work without end; that is the user's loop, not a stall.
   */
  private static final int BUDGET = 300;

  @Test
  void callbacksCallingBackIntoTheCacheNeitherDeadlockNorSpinNorLeak() throws Exception {
    SplittableRandom random = Seeds.random("callbacks calling back into the cache");
    for (int round = 0; round < ROUNDS; round++) {
      runRound(random.nextLong(), round % 2 == 0);
    }
  }

  private void runRound(long seed, boolean async) throws Exception {
    AtomicReference<ClientCache<String, Repo, Client>> self = new AtomicReference<>();
    List<Client> built = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger serials = new AtomicInteger();
    AtomicInteger budget = new AtomicInteger(BUDGET);
    ClientFactory<String, Repo, Client> blocking = (key, spec) -> {
      callBack(self.get(), budget, seed, key, spec, "factory");
      Client c = new Client(key, spec, serials.incrementAndGet());
      built.add(c);
      return c;
    };
    ClientCacheBuilder<String, Repo, Client> builder = async
        ? ClientCache.asyncBuilder((key, spec) -> {
          try {
            return CompletableFuture.completedFuture(blocking.build(key, spec));
          } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
          }
        })
        : ClientCache.builder(blocking);
    ClientCache<String, Repo, Client> cache = builder.maxConcurrentBuilds(2)
        .dependsOn(spec -> List.of("dep"))
        .closer(c -> {
          c.closes.incrementAndGet();
          callBack(self.get(), budget, seed, c.key, c.builtFrom, "closer");
        })
        .listener(new CacheListener<>() {
          @Override
          public void onBuildStarted(String key, long version) {
            callBack(self.get(), budget, seed, key, versioned(version), "listener");
          }
        }).build();
    self.set(cache);
    try {
      Workers.run(WRITERS, worker -> {
        SplittableRandom mine = new SplittableRandom(seed + worker);
        for (int i = 1; i <= 60; i++) {
          String key = "k" + mine.nextInt(8);
          long version = i * 10L + worker;
          if (mine.nextInt(5) == 0) {
            cache.delete(key, version);
          } else {
            cache.upsert(key, versioned(version), version);
          }
        }
      });
    } finally {
      cache.close();
    }
    assertThat(cache.list()).isEmpty();
    assertThat(CacheCloseStressTest.awaitTrue(() -> List.copyOf(built).stream()
        .allMatch(c -> c.closes.get() >= 1))).as("every built client is closed").isTrue();
    assertThat(List.copyOf(built)).allSatisfy(c -> assertThat(c.closes).as("%s", c).hasValue(1));
  }

  /** A callback's reentrant call, chosen by the seed, its key and its version. */
  private static void callBack(ClientCache<String, Repo, Client> cache, AtomicInteger budget,
      long seed, String key, Repo spec, String who) {
    if (budget.decrementAndGet() < 0) {
      return;
    }
    SplittableRandom r = new SplittableRandom(seed ^ (key.hashCode() * 31L + spec.hashCode()
        + who.hashCode()));
    try {
      switch (r.nextInt(12)) {
        case 0 -> cache.delete(key, r.nextInt(1000));
        case 1 -> cache.upsert(key + "-child", spec, r.nextInt(1000));
        case 2 -> cache.list();
        case 3 -> cache.dependencyChanged("dep");
        case 4 -> cache.acquireAsync(key, 0).thenAccept(lease -> lease.close())
            .orTimeout(5, TimeUnit.SECONDS);
        case 5 -> cache.snapshot(key);
        case 6 -> {
          if (r.nextInt(30) == 0) {
            cache.close();
          }
        }
        default -> { }
      }
    } catch (IllegalStateException | java.util.NoSuchElementException expected) {
      // closed, or removed meanwhile: an ordinary answer to a reentrant call
    }
  }
}
