package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientCacheBuilder;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.ClientUnavailableException;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.Freshness;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Factory;
import dev.statewright.cache.attack.Kit.Spec;
import dev.statewright.cache.attack.Kit.Threads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attack on client expiry, public API only. Promises: C12 "a client built at t with lifetime L ...
 * is rebuilt (same spec, same version) from t + refreshAhead × L on, and serves until t + L; from
 * then on no acquire hands it out under any Freshness ... A failed refresh keeps the last client
 * (C7) until its expiry"; Scheduler.nanoTime "only differences are meaningful"; ClientLease.isCurrent
 * "true while the cache still serves the leased client"; Liveness: nothing user code does stalls
 * another key or loses a bulkhead permit.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ExpiryAttackTest {
  private static final Duration LIFETIME = Duration.ofSeconds(10);
  private final Events events = new Events();
  private final AtomicBoolean failing = new AtomicBoolean();
  private final Factory factory = new Factory() {
    @Override
    public Client build(String key, Spec spec) throws Exception {
      if (failing.get()) {
        throw new IllegalStateException("registry down");
      }
      return super.build(key, spec);
    }
  };
  private ClockedThreads clock;
  private ClientCache<String, Spec, Client> cache;

  @AfterEach
  void tearDown() {
    if (cache != null) {
      cache.close();
    }
    if (clock != null) {
      clock.close();
    }
  }

  private ClientCacheBuilder<String, Spec, Client> builder(long origin) {
    clock = new ClockedThreads(origin);
    return ClientCache.builder(factory)
        .name("attack-expiry")
        .scheduler(clock)
        .listener(events)
        .backoff(Backoff.fixed(Duration.ofSeconds(1)))
        .acquireTimeout(Duration.ZERO) // acquire answers at once: served, or unavailable
        .expiry((spec, client) -> LIFETIME);
  }

  private Client leased() {
    try (ClientLease<Client> lease = cache.acquire("k")) {
      return lease.get();
    }
  }

  /** The clock's origin is arbitrary: near the wrap, at zero, at either end of the range. */
  @ParameterizedTest
  @ValueSource(longs = {Long.MAX_VALUE, Long.MIN_VALUE, -1L, 0L, Long.MAX_VALUE - 500_000_000L})
  void aClockAnywhereInItsRangeRetriesRefreshesAndExpiresOnTime(long origin) throws Exception {
    cache = builder(origin).build();
    failing.set(true);
    cache.upsert("k", Spec.of(1), 1); // its build fails, and so does this future (C4)
    events.await(EntryEvent.BUILD_FAILED, 1);
    clock.settle(); // the listener hears of an update before its timers are armed
    failing.set(false);
    clock.advance(Duration.ofSeconds(1)); // the retry is due: the clock may wrap here
    events.await(EntryEvent.BUILD_SUCCEEDED, 1);
    clock.settle();
    Client c1 = leased();

    clock.advance(Duration.ofSeconds(7)); // 7 s into a 10 s lifetime: neither refreshed nor expired
    assertThat(leased()).isSameAs(c1);
    assertThat(factory.built()).hasSize(1);

    clock.advance(Duration.ofSeconds(1)); // 8 s = 0.8 × 10 s: the refresh is due
    events.await(EntryEvent.BUILD_SUCCEEDED, 2);
    clock.settle();
    Client c2 = leased();
    assertThat(c2).isNotSameAs(c1);
    assertThat(c2.spec).isEqualTo(Spec.of(1));
    await(c1.closed);

    failing.set(true);
    clock.advance(Duration.ofSeconds(8)); // c2's refresh is due and fails: c2 keeps serving
    events.await(EntryEvent.BUILD_FAILED, 2);
    clock.settle();
    assertThat(leased()).isSameAs(c2);
    clock.advance(Duration.ofMillis(1999)); // 1 ms before c2's expiry: still served
    assertThat(leased()).isSameAs(c2);
    clock.advance(Duration.ofMillis(1)); // c2 is over: never handed out again
    assertThatThrownBy(this::leased).isInstanceOf(ClientUnavailableException.class);
    await(c2.closed);
    assertThat(c2.closes).hasValue(1);
  }

  @ParameterizedTest
  @ValueSource(longs = {Long.MAX_VALUE - 1_000_000L, Long.MIN_VALUE, 0L})
  void anAcquireWaitingAcrossTheClockWrapWaitsItsFullTimeout(long origin) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    clock = new ClockedThreads(origin);
    cache = ClientCache.<String, Spec, Client>builder((key, spec) -> {
      release.await();
      return factory.build(key, spec);
    }).name("attack-expiry-wrap").scheduler(clock).acquireTimeout(Duration.ofSeconds(30)).build();
    CompletableFuture<?> upsert = cache.upsert("k", Spec.of(1), 1);
    CompletableFuture<ClientLease<Client>> waiting = cache.acquireAsync("k");
    CompletableFuture<ClientLease<Client>> waitingForVersion = cache.acquireAsync("k", 1);
    clock.advance(Duration.ofSeconds(29)); // across the wrap, short of the timeout
    release.countDown();
    await(upsert);
    try (ClientLease<Client> a = await(waiting); ClientLease<Client> b = await(waitingForVersion)) {
      assertThat(a.get()).isSameAs(b.get());
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void noFreshnessServesAClientPastItsLifetimeEvenWithoutItsTimer(boolean bounded)
      throws Exception {
    // a scheduler whose clock moves but whose delayed timers never fire: only readers can find
    // the client over (a zero delay, the acquire timeout here, still runs)
    clock = new ClockedThreads(42) {
      @Override
      public Cancellable schedule(Runnable task, Duration delay) {
        return delay.isZero() ? super.schedule(task, delay) : () -> { };
      }
    };
    cache = ClientCache.builder(factory).name("attack-expiry-reader").scheduler(clock)
        .acquireTimeout(Duration.ZERO)
        .freshness(bounded ? Freshness.boundedStaleness(Duration.ofHours(1)) : Freshness.strict())
        .expiry((spec, client) -> LIFETIME).refreshAhead(1.0).build();
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> held = cache.acquire("k");
    failing.set(true); // no replacement: a reader can only get the expired client or nothing
    clock.advance(LIFETIME.minusNanos(1));
    assertThat(leased()).isSameAs(held.get());
    clock.advance(Duration.ofNanos(1));
    assertThatThrownBy(this::leased).isInstanceOf(ClientUnavailableException.class);
    // the lease taken before the expiry keeps its client open (C12: never taken from a holder)
    assertThat(held.get().isClosed()).isFalse();
    held.close();
    await(factory.built().get(0).closed);
  }

  /**
   * A client built 1 s before the clock's reading wraps past {@link Long#MAX_VALUE} (the origin of
   * nanoTime is arbitrary) with a 10 s lifetime: it must be refreshed at 8 s and never served from
   * 10 s on.
   */
  @Test
  void aClientBuiltJustBeforeTheClockWrapsIsRefreshedAndExpiresOnTime() throws Exception {
    cache = builder(Long.MAX_VALUE - 1_000_000_000L).build();
    await(cache.upsert("k", Spec.of(1), 1));
    Client first = leased();
    failing.set(true); // the refresh fails: nothing replaces the client before its expiry
    clock.advance(Duration.ofSeconds(11)); // a second past its lifetime
    assertThatThrownBy(this::leased).as("the expired client is served")
        .isInstanceOf(ClientUnavailableException.class);
    await(first.closed);
  }

  /**
   * The served client expires while the build of a newer spec is blocked, then a refresh of the
   * new client is due while yet another spec's build is blocked: no reader, strict or bounded,
   * gets an expired client; each new spec is served; every client is closed once.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void expiryRacingUpsertsNeverServesAnExpiredClient(boolean bounded) throws Exception {
    CountDownLatch[] gates = {new CountDownLatch(1), new CountDownLatch(1)};
    AtomicInteger buildNo = new AtomicInteger();
    Factory gated = new Factory() {
      @Override
      public Client build(String key, Spec spec) throws Exception {
        int n = buildNo.incrementAndGet();
        if (n == 2 || n == 4) {
          gates[n / 2 - 1].await(); // v2's build, then v3's
        }
        return super.build(key, spec);
      }
    };
    clock = new ClockedThreads(11);
    cache = ClientCache.builder(gated).name("attack-expiry-upsert").scheduler(clock)
        .listener(events).acquireTimeout(Duration.ZERO)
        .freshness(bounded ? Freshness.boundedStaleness(Duration.ofHours(1)) : Freshness.strict())
        .expiry((spec, client) -> LIFETIME).build();
    await(cache.upsert("k", Spec.of(1), 1));
    Client c1 = gated.built().get(0);
    CompletableFuture<?> v2 = cache.upsert("k", Spec.of(2), 2);
    events.await(EntryEvent.BUILD_STARTED, 2);
    if (bounded) {
      assertThat(leasedFrom(cache)).isSameAs(c1); // stale for less than an hour: still served
    }
    clock.advance(LIFETIME); // c1's lifetime is over while v2 builds (its refresh coalesced)
    assertThatThrownBy(() -> leasedFrom(cache)).isInstanceOf(ClientUnavailableException.class);
    await(c1.closed);
    gates[0].countDown();
    await(v2);
    Client c2 = leasedFrom(cache);
    assertThat(c2.spec).isEqualTo(Spec.of(2));

    clock.advance(Duration.ofSeconds(8)); // c2's refresh is due: build 3, of v2, not gated
    events.await(EntryEvent.BUILD_SUCCEEDED, 3);
    clock.settle(); // c3's expiry timer is armed after the listener hears of it
    Client c3 = leasedFrom(cache);
    assertThat(c3).isNotSameAs(c2);
    assertThat(c3.spec).isEqualTo(Spec.of(2));
    await(c2.closed);
    CompletableFuture<?> v3 = cache.upsert("k", Spec.of(3), 3); // build 4: gated
    events.await(EntryEvent.BUILD_STARTED, 4);
    clock.advance(LIFETIME); // c3 expires while v3 builds
    assertThatThrownBy(() -> leasedFrom(cache)).isInstanceOf(ClientUnavailableException.class);
    gates[1].countDown();
    await(v3);
    assertThat(leasedFrom(cache).spec).isEqualTo(Spec.of(3));
    cache.close();
    gated.awaitAllClosed();
    assertThat(gated.built()).hasSize(4).allSatisfy(c -> assertThat(c.closes).hasValue(1));
  }

  private static Client leasedFrom(ClientCache<String, Spec, Client> cache) {
    try (ClientLease<Client> lease = cache.acquire("k")) {
      return lease.get();
    }
  }

  @Test
  void aLeaseOnAClientThatExpiredUnreplacedIsNoLongerCurrentAndIsTold() throws Exception {
    cache = builder(7).build();
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> held = cache.acquire("k");
    failing.set(true); // the refresh fails, so nothing replaces the client before it expires
    clock.advance(Duration.ofSeconds(8));
    events.await(EntryEvent.BUILD_FAILED, 1);
    assertThat(held.isCurrent()).isTrue();
    clock.advance(Duration.ofSeconds(2)); // expired: the cache serves it no more
    events.await(EntryEvent.CLIENT_EXPIRED, 1);
    assertThatThrownBy(this::leased).isInstanceOf(ClientUnavailableException.class);
    // the listener is told after the CAS, the lease after the effects: wait for the latter
    assertThat(held.superseded().toCompletableFuture().get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS))
        .isNull();
    assertThat(held.isCurrent()).as("isCurrent of a lease whose client expired").isFalse();
    assertThat(held.reportFailure(new IllegalStateException("late"))).isFalse();
    held.close();
    await(factory.built().get(0).closed);
  }

  /** A cache whose lifetime function blocks, for keys named "blocked…", until released. */
  private ClientCache<String, Spec, Client> blockingLifetime(Threads threads,
      CountDownLatch release, int permits) {
    return ClientCache.builder(factory).name("attack-expiry-blocking").scheduler(threads)
        .maxConcurrentBuilds(permits)
        .buildTimeout(Duration.ofSeconds(2)) // frees the permit; long enough for a loaded machine
        .expiry((spec, client) -> {
          if (client.key.startsWith("blocked")) {
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return LIFETIME;
        }).build();
  }

  @Test
  void aLifetimeFunctionThatBlocksStallsNoOtherKey() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (Threads threads = new Threads(); Threads callers = new Threads()) {
      cache = blockingLifetime(threads, release, 1);
      CompletableFuture<CompletableFuture<?>> blocked =
          CompletableFuture.supplyAsync(() -> cache.upsert("blocked", Spec.of(1), 1),
              callers::execute);
      try {
        await(cache.upsert("other", Spec.of(1), 1)); // must not wait for the blocked lifetime
      } finally {
        release.countDown();
      }
      await(blocked).handle((s, e) -> null).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(cache.footprint().permitsAvailable()).isEqualTo(1);
      cache.close();
      factory.awaitAllClosed();
      assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes).hasValue(1));
    }
  }

  /**
   * upsert returns a future and the factory runs on a pool; the lifetime function is user code
   * asked "when the build returns". It must not run inside the caller's upsert, or a blocking one
   * blocks that caller (and every key that caller would upsert next). Whether it does is a race:
   * when the pool finishes the build before upsert attaches its continuation, the continuation
   * (lifetime, outcome, listener) runs on the caller. 30 keys, each its own permit, make the race
   * all but certain to happen at least once.
   */
  @Test
  void anUpsertCallReturnsWhileTheLifetimeFunctionBlocks() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (Threads threads = new Threads(); Threads callers = new Threads()) {
      cache = blockingLifetime(threads, release, 32);
      List<CompletableFuture<?>> upserts = new ArrayList<>();
      try {
        for (int i = 0; i < 30; i++) {
          String key = "blocked-" + i;
          CompletableFuture<CompletableFuture<?>> call =
              CompletableFuture.supplyAsync(() -> cache.upsert(key, Spec.of(1), 1),
                  callers::execute);
          try {
            upserts.add(call.get(5, TimeUnit.SECONDS));
          } catch (TimeoutException e) {
            throw new AssertionError("upsert(" + key + ") blocked its caller in the lifetime "
                + "function", e);
          }
        }
      } finally {
        release.countDown();
      }
      CompletableFuture.allOf(upserts.stream().map(u -> u.handle((s, e) -> null))
          .toArray(CompletableFuture[]::new)).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  @Test
  void aLifetimeThatFailsOnlyForTheRefreshKeepsTheOldClientUntilItsExpiry() throws Exception {
    AtomicBoolean lifetimeFails = new AtomicBoolean();
    clock = new ClockedThreads(1);
    cache = ClientCache.builder(factory).name("attack-expiry-refresh").scheduler(clock)
        .listener(events).acquireTimeout(Duration.ZERO).backoff(Backoff.fixed(Duration.ofSeconds(5)))
        .expiry((spec, client) -> {
          if (lifetimeFails.get()) {
            throw new StackOverflowError("lifetime lookup recursed");
          }
          return LIFETIME;
        }).build();
    await(cache.upsert("k", Spec.of(1), 1));
    Client c1 = leased();
    lifetimeFails.set(true);
    clock.advance(Duration.ofSeconds(8));
    events.await(EntryEvent.BUILD_FAILED, 1);
    clock.settle(); // its retry timer is armed after the listener hears of it
    Client unseen = factory.built().get(1);
    await(unseen.closed); // the refresh's client, of unknown lifetime, is closed unseen
    assertThat(leased()).isSameAs(c1);
    assertThat(cache.snapshot("k").orElseThrow().lastError())
        .get(InstanceOfAssertFactories.THROWABLE).hasRootCauseInstanceOf(StackOverflowError.class);
    clock.advance(Duration.ofSeconds(2));
    assertThatThrownBy(this::leased).isInstanceOf(ClientUnavailableException.class);
    await(c1.closed);
    lifetimeFails.set(false);
    clock.advance(Duration.ofSeconds(5)); // the retry
    events.await(EntryEvent.BUILD_SUCCEEDED, 2);
    assertThat(leased()).isNotIn(c1, unseen);
    assertThat(unseen.closes).hasValue(1);
    assertThat(c1.closes).hasValue(1);
  }
}
