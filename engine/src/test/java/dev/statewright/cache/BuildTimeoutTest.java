package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.lease.Lease;
import dev.statewright.testing.TimersFromTheCall;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** C7's timeout half, on real threads: a hanging factory is interrupted and its late result closed. */
class BuildTimeoutTest {
  private static final Repo HANGS = new Repo("https://blackhole.example");
  private static final Repo WORKS = new Repo("https://charts.example");

  @Test
  void aHangingBuildFailsAtTheTimeoutIsInterruptedAndANewSpecStillBuilds() throws Exception {
    CountDownLatch interrupted = new CountDownLatch(1);
    TimersFromTheCall scheduler = new TimersFromTheCall(Scheduler.system());
    ClientFactory<String, Repo, Client> factory = (key, spec) -> {
      scheduler.callStarts();
      if (spec.equals(HANGS)) {
        try {
          new CountDownLatch(1).await(); // a connect to a host that never answers
        } catch (InterruptedException e) {
          interrupted.countDown();
          throw e;
        }
      }
      return new Client(key, spec, 1);
    };
    try (ClientCache<String, Repo, Client> cache = ClientCache.builder(factory)
        .scheduler(scheduler)
        .buildTimeout(Duration.ofMillis(100)).maxConcurrentBuilds(1)
        .backoff(Backoff.fixed(Duration.ofHours(1))).build()) {

      CompletableFuture<Snapshot<String, Repo, Client>> hung = cache.upsert("redis", HANGS, 1);

      assertThatThrownBy(() -> hung.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(TimeoutException.class)
          .hasMessageContaining("build of 'redis' at version 1 exceeded the build timeout of PT0.1S");
      assertThat(interrupted.await(10, TimeUnit.SECONDS)).as("the factory was interrupted").isTrue();
      assertThat(cache.snapshot("redis").orElseThrow().lastError())
          .hasValueSatisfying(e -> assertThat(e).isInstanceOf(TimeoutException.class));

      // the permit came back (maxConcurrentBuilds is 1) and a fixed spec builds at once
      cache.upsert("redis", WORKS, 2).get(10, TimeUnit.SECONDS);
      try (Lease<Client> lease = cache.acquire("redis")) {
        assertThat(lease.get().builtFrom).isEqualTo(WORKS);
      }
    }
  }

  @Test
  void theLateResultOfAnAbandonedBuildIsClosedUnseen() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    TimersFromTheCall scheduler = new TimersFromTheCall(Scheduler.system());
    ClientFactory<String, Repo, Client> stubborn = (key, spec) -> {
      scheduler.callStarts();
      while (release.getCount() > 0) {
        try {
          release.await();
        } catch (InterruptedException ignoredOnPurpose) {
          // a factory that ignores interrupts: its result arrives late
        }
      }
      return new Client(key, spec, 1);
    };
    try (ClientCache<String, Repo, Client> cache = ClientCache.builder(stubborn)
        .scheduler(scheduler).buildTimeout(Duration.ofMillis(50))
        .backoff(Backoff.fixed(Duration.ofHours(1)))
        .closer(client -> {
          client.close();
          closed.countDown();
        }).build()) {

      CompletableFuture<Snapshot<String, Repo, Client>> late = cache.upsert("redis", WORKS, 1);
      assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
      release.countDown();

      assertThat(closed.await(10, TimeUnit.SECONDS)).as("the late client was closed").isTrue();
      assertThat(cache.snapshot("redis").orElseThrow().servedSpec()).isEmpty();
    }
  }
}
