package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.Wave;
import dev.statewright.cache.attack.Kit.Threads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attack on dependency waves, public API only. Promises (Wave javadoc, C14): "A dependent that is
 * gone (deleted, or no longer reading d) is skipped and uses no token"; "A dependent deleted
 * mid-wave is skipped, and is neither a success nor a failure"; the future of dependencyChanged
 * "completes when every dependent (not deleted meanwhile) serves a client built after the call".
 * Here the canary itself goes away while it builds.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WaveAttackTest {
  /** A spec: whether it reads the secret. */
  record Spec(long v, boolean readsSecret) { }

  /** A client and the secret it read. */
  record Client(String key, Spec spec, long secret) { }

  private final Threads threads = new Threads();
  private final AtomicLong secret = new AtomicLong(1);
  private final AtomicBoolean gate = new AtomicBoolean();
  private final CountDownLatch release = new CountDownLatch(1);
  private final CompletableFuture<String> canary = new CompletableFuture<>();
  private final Queue<Client> closed = new ConcurrentLinkedQueue<>();
  private final Queue<Client> built = new ConcurrentLinkedQueue<>();
  private final CompletableFuture<Void> fiveClosed = new CompletableFuture<>();
  private ClientCache<String, Spec, Client> cache;

  @AfterEach
  void tearDown() {
    release.countDown();
    if (cache != null) {
      cache.close();
    }
    threads.close();
  }

  private void start(Wave wave, int dependents) throws Exception {
    cache = ClientCache.<String, Spec, Client>builder((key, spec) -> {
      if (gate.get() && canary.complete(key)) { // the first build after the change: a canary
        awaitUninterruptibly(release); // even abandoned, it returns a client, to be closed unseen
      }
      Client c = new Client(key, spec, secret.get());
      built.add(c);
      return c;
    }).name("attack-wave").scheduler(threads).dependencyWave(wave)
        .dependsOn(spec -> spec.readsSecret() ? List.of("secret") : List.of())
        .closer(c -> {
          closed.add(c);
          if (closed.size() >= 5) {
            fiveClosed.complete(null);
          }
        }).build();
    for (int i = 0; i < dependents; i++) {
      await(cache.upsert("repo-" + i, new Spec(1, true), 1));
    }
    secret.set(2);
    gate.set(true);
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void assertEveryOtherDependentReadsTheNewSecret(String gone, int dependents) {
    for (int i = 0; i < dependents; i++) {
      String key = "repo-" + i;
      if (key.equals(gone)) {
        continue;
      }
      try (ClientLease<Client> lease = cache.acquire(key)) {
        assertThat(lease.get().secret()).as(key).isEqualTo(2);
      }
      assertThat(cache.snapshot(key).orElseThrow().state()).isEqualTo(EntryState.CURRENT);
    }
  }

  @Test
  void aCanaryDeletedWhileItBuildsLetsTheWaveGoOn() throws Exception {
    start(Wave.canaryFirst(1), 5);
    CompletableFuture<Void> wave = cache.dependencyChanged("secret");
    String first = canary.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    await(cache.delete(first, 2));
    release.countDown();
    wave.handle((v, e) -> null).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(wave).isCompleted(); // not failed: a deleted dependent is neither
    assertEveryOtherDependentReadsTheNewSecret(first, 5);
  }

  @Test
  void aCanaryThatStopsReadingTheSecretWhileItBuildsLetsTheWaveGoOn() throws Exception {
    start(Wave.canaryFirst(1).thenAtMost(2, Duration.ofMillis(1)), 5);
    CompletableFuture<Void> wave = cache.dependencyChanged("secret");
    String first = canary.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    CompletableFuture<Snapshot<String, Spec, Client>> moved =
        cache.upsert(first, new Spec(2, false), 2);
    release.countDown();
    await(moved);
    wave.handle((v, e) -> null).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(wave).isCompleted();
    assertEveryOtherDependentReadsTheNewSecret(first, 5);
  }

  @Test
  void aCanaryReportedFailingWhileItBuildsDoesNotStopTheWave() throws Exception {
    start(Wave.canaryFirst(2), 6);
    List<ClientLease<Client>> leases = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      leases.add(cache.acquire("repo-" + i));
    }
    CompletableFuture<Void> wave = cache.dependencyChanged("secret");
    String first = canary.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    for (ClientLease<Client> lease : leases) { // every holder's client fails in use meanwhile
      lease.reportFailure(new IllegalStateException("401 on " + lease.get().key()));
    }
    release.countDown();
    wave.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEveryOtherDependentReadsTheNewSecret(null, 6);
    assertThat(first).startsWith("repo-");
    for (ClientLease<Client> lease : leases) {
      assertThat(lease.isCurrent()).isFalse();
      lease.close();
    }
    cache.close();
    assertThat(closed).containsExactlyInAnyOrderElementsOf(built);
  }

  @Test
  void closingTheCacheWhileTheCanaryBuildsFailsTheWaveAndClosesEveryClientOnce()
      throws Exception {
    start(Wave.canaryFirst(1), 4);
    CompletableFuture<Void> wave = cache.dependencyChanged("secret");
    canary.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    AtomicReference<Throwable> closing = new AtomicReference<>();
    CompletableFuture<Void> closer = CompletableFuture.runAsync(cache::close, threads::execute)
        .whenComplete((v, e) -> closing.set(e));
    closer.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(wave.handle((v, e) -> e).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isNotNull();
    release.countDown(); // the canary's late client is closed unseen
    assertThat(closing.get()).isNull();
    fiveClosed.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS); // 4 first clients, the canary's
    assertThat(built).hasSize(5);
    assertThat(closed).containsExactlyInAnyOrderElementsOf(built);
  }
}
