package dev.statewright.cache;

import static dev.statewright.cache.TestClients.versioned;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Item 4 of the liveness issue, on real threads: {@code close()} is atomic with every entry point.
 * Once it returns no entry is live, and every client built is closed exactly once. Seeded; the
 * seed is printed.
 */
class CacheCloseStressTest {
  private static final int ROUNDS = 150;
  private static final int WRITERS = 3;
  private static final int UPSERTS = 60;

  @Test
  void upsertsRacingCloseLeaveNoLiveEntryAndNoUnclosedClient() throws Exception {
    SplittableRandom random = Seeds.random("upserts racing close");
    for (int round = 0; round < ROUNDS; round++) {
      Factory factory = new Factory();
      ClientCache<String, TestClients.Repo, Client> cache =
          ClientCache.builder(factory).maxConcurrentBuilds(2)
              .dependsOn(spec -> { // widens the window between an upsert's checks and its insert
                for (int spin = 0; spin < 2_000; spin++) {
                  Thread.onSpinWait();
                }
                return List.of();
              }).build();
      int closeAfter = random.nextInt(WRITERS * UPSERTS);
      AtomicInteger upserts = new AtomicInteger();
      int r = round;
      Workers.run(WRITERS + 1, worker -> {
        if (worker == WRITERS) {
          while (upserts.get() < closeAfter) {
            Thread.onSpinWait();
          }
          cache.close();
          return;
        }
        for (int i = 0; i < UPSERTS; i++) {
          upserts.incrementAndGet();
          cache.upsert("w" + worker + "-" + i, versioned(i + 1), i + 1);
          if (i % 3 == 0) {
            cache.upsert("shared", versioned(r * 1000L + i + worker), r * 1000L + i + worker);
          }
        }
      });

      assertThat(cache.list()).as("round %d: live after close", round).isEmpty();
      assertThat(awaitTrue(() -> factory.inFlight.get() == 0
          && factory.built.stream().allMatch(c -> c.closes.get() >= 1)))
          .as("round %d: every built client is closed: %s", round, unclosed(factory)).isTrue();
      assertThat(factory.built).as("round %d", round)
          .allSatisfy(c -> assertThat(c.closes).as("%s", c).hasValue(1));
    }
  }

  private static List<Client> unclosed(Factory factory) {
    return factory.built.stream().filter(c -> c.closes.get() == 0).toList();
  }

  /** Polls until {@code condition} holds or ten seconds pass; abandoned builds end on their own. */
  static boolean awaitTrue(BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.yield();
    }
    return true;
  }
}
