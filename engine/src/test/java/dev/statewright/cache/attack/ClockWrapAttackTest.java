package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.ClientUnavailableException;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.Freshness;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Factory;
import dev.statewright.cache.attack.Kit.Spec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The lifecycle's other durations across the clock's wrap, public API only. Scheduler.nanoTime:
 * "only differences are meaningful", so a clock about to pass {@link Long#MAX_VALUE} must change
 * nothing: boundedStaleness(d) "serves the last client while the entry has been stale for less
 * than d"; supersede(d) abandons a build that "has run at least d" when a newer spec arrives;
 * leaseWarning(d) tells of "leases that still pin a client this long after it was replaced".
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ClockWrapAttackTest {
  private final Events events = new Events() {
    @Override
    public void onLeasesPinned(String key, long version, List<String> holders) {
      pinned.complete(holders);
    }
  };
  private final CompletableFuture<List<String>> pinned = new CompletableFuture<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private final Factory factory = new Factory() {
    @Override
    public Client build(String key, Spec spec) throws Exception {
      if (spec.v() == 2) {
        release.await(); // v2's build hangs until released (or interrupted when abandoned)
      }
      return super.build(key, spec);
    }
  };
  private ClockedThreads clock;
  private ClientCache<String, Spec, Client> cache;

  @AfterEach
  void tearDown() {
    release.countDown();
    if (cache != null) {
      cache.close();
    }
    clock.close();
  }

  private Client leased() {
    try (ClientLease<Client> lease = cache.acquire("k")) {
      return lease.get();
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {Long.MAX_VALUE - 1_000_000_000L, Long.MAX_VALUE, 0L})
  void boundedStalenessCountsTheStaleTimeAcrossTheWrap(long origin) throws Exception {
    clock = new ClockedThreads(origin);
    cache = ClientCache.builder(factory).name("attack-wrap-bounded").scheduler(clock)
        .listener(events).acquireTimeout(Duration.ZERO)
        .freshness(Freshness.boundedStaleness(Duration.ofSeconds(5))).build();
    await(cache.upsert("k", Spec.of(1), 1));
    Client c1 = leased();
    cache.upsert("k", Spec.of(2), 2);
    events.await(EntryEvent.BUILD_STARTED, 2);
    clock.advance(Duration.ofSeconds(2));
    assertThat(leased()).as("stale for 2 s of 5").isSameAs(c1);
    clock.advance(Duration.ofSeconds(4));
    assertThatThrownBy(this::leased).as("stale for 6 s of 5")
        .isInstanceOf(ClientUnavailableException.class);
  }

  @ParameterizedTest
  @ValueSource(longs = {Long.MAX_VALUE - 1_000_000_000L, Long.MAX_VALUE, 0L})
  void supersedeAbandonsABuildThatRanLongEnoughAcrossTheWrap(long origin) throws Exception {
    clock = new ClockedThreads(origin);
    cache = ClientCache.builder(factory).name("attack-wrap-supersede").scheduler(clock)
        .listener(events).supersede(Duration.ofSeconds(3)).build();
    await(cache.upsert("k", Spec.of(1), 1));
    cache.upsert("k", Spec.of(2), 2);
    events.await(EntryEvent.BUILD_STARTED, 2);
    clock.advance(Duration.ofSeconds(4));
    CompletableFuture<?> v3 = cache.upsert("k", Spec.of(3), 3);
    events.await(EntryEvent.BUILD_ABANDONED, 1);
    await(v3);
    assertThat(leased().spec).isEqualTo(Spec.of(3));
  }

  @ParameterizedTest
  @ValueSource(longs = {Long.MAX_VALUE - 1_000_000_000L, Long.MAX_VALUE, 0L})
  void leaseWarningTellsOfAPinnedClientAcrossTheWrap(long origin) throws Exception {
    clock = new ClockedThreads(origin);
    cache = ClientCache.builder(factory).name("attack-wrap-warning").scheduler(clock)
        .listener(events).leaseWarning(Duration.ofSeconds(2)).build();
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> pinning = cache.acquire("k");
    await(cache.upsert("k", Spec.of(3), 3));
    clock.advance(Duration.ofSeconds(3));
    assertThat(await(pinned)).containsExactly(pinning.holder());
    pinning.close();
  }
}
