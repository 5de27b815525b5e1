package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.lease.Lease;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * On real threads: a superseded blocking build is interrupted and not waited for, keeps its
 * bulkhead permit until its call returns (C8), is counted by the snapshot meanwhile, and its late
 * client is closed unseen.
 */
class AbandonedBuildTest {
  private static final Repo HANGS = new Repo("https://blackhole.example");
  private static final Repo WORKS = new Repo("https://charts.example");

  @Test
  void aSupersededBuildKeepsItsPermitUntilItReturnsAndIsCountedMeanwhile() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch hanging = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    CountDownLatch lateClosed = new CountDownLatch(1);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    ClientFactory<String, Repo, Client> factory = (key, spec) -> {
      maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
      try {
        if (spec.equals(HANGS)) {
          hanging.countDown();
        }
        while (spec.equals(HANGS) && release.getCount() > 0) {
          try {
            release.await();
          } catch (InterruptedException e) {
            interrupted.countDown(); // a factory that ignores interrupts: it returns late
          }
        }
        return new Client(key, spec, spec.equals(HANGS) ? 1 : 2);
      } finally {
        running.decrementAndGet();
      }
    };
    try (ClientCache<String, Repo, Client> cache = ClientCache.builder(factory)
        .supersede(Duration.ZERO).maxConcurrentBuilds(1)
        .closer(c -> {
          if (c.builtFrom.equals(HANGS)) {
            lateClosed.countDown();
          }
        }).build()) {
      cache.upsert("redis", HANGS, 1);
      assertThat(hanging.await(10, TimeUnit.SECONDS)).isTrue();
      var fixed = cache.upsert("redis", WORKS, 2);

      assertThat(interrupted.await(10, TimeUnit.SECONDS)).as("the hung build was interrupted").isTrue();
      assertThat(cache.snapshot("redis").orElseThrow().abandonedBuildsRunning()).isEqualTo(1);
      assertThat(fixed).as("the one permit is still held by the abandoned call").isNotDone();

      release.countDown();
      try (Lease<Client> lease = cache.acquireAsync("redis", 2).get(10, TimeUnit.SECONDS)) {
        assertThat(lease.get().builtFrom).isEqualTo(WORKS);
      }
      assertThat(lateClosed.await(10, TimeUnit.SECONDS)).as("the late client was closed").isTrue();
      assertThat(cache.snapshot("redis").orElseThrow().abandonedBuildsRunning()).isZero();
      assertThat(maxRunning).as("C8 counts the abandoned call").hasValue(1);
    }
  }
}
