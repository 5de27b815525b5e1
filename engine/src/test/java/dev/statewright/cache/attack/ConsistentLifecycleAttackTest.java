package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.Freshness;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Factory;
import dev.statewright.cache.attack.Kit.Spec;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.event.ManualEventSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attack on consistent reads meeting the client lifecycle, public API only. Promises: C11 "After
 * invalidate(k, cause) or reportFailure(cause) marked a client broken, no acquire that starts
 * afterwards (acquire, either acquireAsync, acquireAsOf, acquireConsistent) under strict() is
 * handed that client"; acquireAsOf reads "strictly, whatever the cache's Freshness"; C12 "no acquire
 * hands it out under any Freshness". The cache here is boundedStaleness, so only the strictness of
 * the consistent reads themselves keeps the broken client away.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConsistentLifecycleAttackTest {
  private final ManualEventSource<String, Spec> source = new ManualEventSource<>();
  private final AtomicBoolean gated = new AtomicBoolean();
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicBoolean failing = new AtomicBoolean();
  private final Events events = new Events();
  private final Factory factory = new Factory() {
    @Override
    public Client build(String key, Spec spec) throws Exception {
      if (gated.get()) {
        release.await();
      }
      if (failing.get()) {
        throw new IllegalStateException("registry down");
      }
      return super.build(key, spec);
    }
  };
  private ClientCache<String, Spec, Client> cache;
  private AutoCloseable scheduler;

  @AfterEach
  void tearDown() throws Exception {
    release.countDown();
    if (cache != null) {
      cache.close();
    }
    scheduler.close();
  }

  private void startOnThreads() throws Exception {
    Threads threads = new Threads();
    scheduler = threads;
    cache = ClientCache.builder(factory).name("attack-consistent").scheduler(threads)
        .source(source).freshness(Freshness.boundedStaleness(Duration.ofHours(1)))
        .backoff(Backoff.fixed(Duration.ofMillis(5))).build();
    source.upsert("k", Spec.of(1), 1);
    source.progress(1);
    source.storeVersion(1);
    await(cache.acquireAsync("k", 1)).close();
  }

  @Test
  void consistentReadsStartedAfterAnInvalidationWaitForTheReplacement() throws Exception {
    startOnThreads();
    ClientLease<Client> broken = cache.acquire("k");
    gated.set(true); // the replacement waits until released
    assertThat(cache.invalidate("k", new IllegalStateException("401"))).isTrue();
    CompletableFuture<ClientLease<Client>> asOf = cache.acquireAsOf("k", 1);
    CompletableFuture<ClientLease<Client>> consistent = cache.acquireConsistent("k");
    release.countDown();
    try (ClientLease<Client> a = await(asOf); ClientLease<Client> b = await(consistent)) {
      assertThat(a.get()).as("acquireAsOf after an invalidation").isNotSameAs(broken.get());
      assertThat(b.get()).as("acquireConsistent after an invalidation")
          .isNotSameAs(broken.get());
    }
    broken.close();
  }

  /** Under strict(), C11 names "either acquireAsync": the one with a version too. */
  @Test
  void underStrictEitherAcquireAsyncStartedAfterAMarkWaitsForTheReplacement() throws Exception {
    Threads threads = new Threads();
    scheduler = threads;
    cache = ClientCache.builder(factory).name("attack-strict-async").scheduler(threads)
        .backoff(Backoff.fixed(Duration.ofMillis(5))).build();
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> broken = cache.acquire("k");
    gated.set(true);
    assertThat(broken.reportFailure(new IllegalStateException("401"))).isTrue();
    CompletableFuture<ClientLease<Client>> atVersion = cache.acquireAsync("k", 1);
    CompletableFuture<ClientLease<Client>> plain = cache.acquireAsync("k");
    release.countDown();
    try (ClientLease<Client> a = await(atVersion); ClientLease<Client> b = await(plain)) {
      assertThat(b.get()).as("acquireAsync(k) after a report").isNotSameAs(broken.get());
      assertThat(a.get()).as("acquireAsync(k, 1) after a report").isNotSameAs(broken.get());
    }
    broken.close();
  }

  @Test
  void acquireConsistentAfterAReportViaALeaseWaitsForTheReplacement() throws Exception {
    startOnThreads();
    ClientLease<Client> broken = cache.acquire("k");
    gated.set(true);
    assertThat(broken.reportFailure(new IllegalStateException("connection refused"))).isTrue();
    CompletableFuture<ClientLease<Client>> read = cache.acquireConsistent("k");
    CompletableFuture<ClientLease<Client>> asOf = cache.acquireAsOf("k", 1);
    release.countDown();
    try (ClientLease<Client> a = await(read); ClientLease<Client> b = await(asOf)) {
      assertThat(a.get()).isNotSameAs(broken.get());
      assertThat(b.get()).isNotSameAs(broken.get());
    }
    broken.close();
  }

  @Test
  void noConsistentReadHandsOutAnExpiredClient() throws Exception {
    ClockedThreads clock = new ClockedThreads(3);
    scheduler = clock;
    cache = ClientCache.builder(factory).name("attack-consistent-expiry").scheduler(clock)
        .source(source).listener(events).freshness(Freshness.boundedStaleness(Duration.ofHours(1)))
        .acquireTimeout(Duration.ZERO).expiry((s, c) -> Duration.ofSeconds(10)).build();
    source.upsert("k", Spec.of(1), 1);
    source.progress(1);
    source.storeVersion(1);
    events.await(EntryEvent.BUILD_SUCCEEDED, 1);
    Client first = factory.built().get(0);
    failing.set(true);
    clock.advance(Duration.ofSeconds(11));
    for (CompletableFuture<ClientLease<Client>> read : List.of(cache.acquireAsOf("k", 1),
        cache.acquireConsistent("k"), cache.acquireAsync("k", 1), cache.acquireAsync("k"))) {
      ClientLease<Client> got = read.handle((l, e) -> l).get(Kit.WAIT.toSeconds(),
          TimeUnit.SECONDS);
      if (got != null) {
        assertThat(got.get()).as("a read after the expiry").isNotSameAs(first);
        got.close();
      }
    }
  }
}
