package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.testing.Workers;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * On real threads: a listener that blocks while its thread hands out a permit stalls no other
 * key. (With one thread draining the bulkhead for all, key b's start would wait behind key a's
 * listener, which waits for b: a deadlock.)
 */
class BlockingCallbackTest {
  private static final Repo V1 = new Repo("https://charts.example/v1");

  @Test
  void aListenerWaitingForAnotherKeyStallsNothing() throws Exception {
    CountDownLatch aStarting = new CountDownLatch(1);
    CountDownLatch bServed = new CountDownLatch(1);
    try (ClientCache<String, Repo, Client> cache = ClientCache.builder(new Factory())
        .maxConcurrentBuilds(2)
        .listener(new CacheListener<>() {
          @Override
          public void onBuildStarted(String key, long version) {
            if (key.equals("a")) {
              aStarting.countDown();
              awaitQuietly(bServed); // a slow metrics push, or a wait on another key
            }
          }
        }).build()) {

      Workers.run(2, worker -> {
        if (worker == 0) {
          cache.upsert("a", V1, 1).get(20, TimeUnit.SECONDS);
        } else {
          assertThat(aStarting.await(10, TimeUnit.SECONDS)).isTrue();
          cache.upsert("b", V1, 1).get(10, TimeUnit.SECONDS);
          bServed.countDown();
        }
      });

      assertThat(cache.snapshot("a").orElseThrow().state()).isEqualTo(EntryState.CURRENT);
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
