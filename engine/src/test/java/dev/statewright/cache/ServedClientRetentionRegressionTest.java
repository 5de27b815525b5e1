package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.testing.ManualScheduler;
import java.lang.ref.WeakReference;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A served client kept the node it was built from alive for as long as it was served: its release
 * and warning closures captured that REBUILDING node, and with it the build run, its cancelled
 * timeout and the upsert's waiter with its future and snapshot (the 100,000-key scale benchmark
 * measured 1,069 bytes per entry, 400 of them this). What a CURRENT entry holds must not depend on
 * what its build needed while it ran.
 */
class ServedClientRetentionRegressionTest {
  private final ManualScheduler scheduler = new ManualScheduler();

  @Test
  void aServedEntryDoesNotKeepTheUpsertItAnswered() {
    try (ClientCache<String, Repo, TestClients.Client> cache =
        ClientCache.builder(new Factory()).scheduler(scheduler).build()) {
      WeakReference<CompletableFuture<?>> upsert = new WeakReference<>(
          cache.upsert("redis", new Repo("https://charts.example"), 1));
      scheduler.runAll();
      assertThat(cache.snapshot("redis").orElseThrow().state()).isEqualTo(EntryState.CURRENT);

      for (int i = 0; i < 20 && upsert.get() != null; i++) {
        System.gc(); // the caller dropped the future: only the cache could still hold it
      }

      assertThat(upsert.get()).as("the answered upsert's future, still reachable from the cache")
          .isNull();
    }
  }
}
