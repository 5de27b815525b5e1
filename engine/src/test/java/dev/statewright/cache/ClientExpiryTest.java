package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.lease.Lease;
import dev.statewright.lifecycle.Transition;
import dev.statewright.testing.ForwardingScheduler;
import dev.statewright.testing.ManualScheduler;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** C12: expiring clients, refreshed ahead of their expiry, never served after it; virtual time. */
class ClientExpiryTest {
  private static final Repo V1 = new Repo("https://charts.example/v1");
  private static final Duration LIFETIME = Duration.ofSeconds(100);

  private final ManualScheduler scheduler = new ManualScheduler();
  private final Factory factory = new Factory();
  private final List<String> transitions = Collections.synchronizedList(new ArrayList<>());
  private final AtomicReference<BiFunction<Repo, Client, Duration>> lifetime =
      new AtomicReference<>((spec, client) -> LIFETIME);
  private ClientCache<String, Repo, Client> cache;

  private ClientCacheBuilder<String, Repo, Client> builder(Scheduler on) {
    return ClientCache.builder(factory)
        .name("expiring")
        .scheduler(on)
        .backoff(Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(8)))
        .acquireTimeout(Duration.ofMinutes(10))
        .expiry((spec, client) -> lifetime.get().apply(spec, client))
        .refreshAhead(0.5)
        .listener(new CacheListener<>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            transitions.add(t.event().name());
          }
        });
  }

  @AfterEach
  void close() {
    if (cache != null) {
      cache.close();
    }
  }

  private Client start(ClientCacheBuilder<String, Repo, Client> b) {
    cache = b.build();
    cache.upsert("redis", V1, 1);
    scheduler.runAll();
    return leased();
  }

  private Client leased() {
    try (Lease<Client> lease = cache.acquireAsync("redis").join()) {
      return lease.get();
    }
  }

  private Snapshot<String, Repo, Client> snapshot() {
    return cache.snapshot("redis").orElseThrow();
  }

  @Test
  void aClientIsRebuiltAtTheRefreshPointWithTheSameSpecAndVersion() {
    Client first = start(builder(scheduler));
    scheduler.advance(Duration.ofSeconds(49));
    assertThat(factory.calls("redis")).isEqualTo(1);

    scheduler.advance(Duration.ofSeconds(1)); // 0.5 × 100 s

    assertThat(factory.calls("redis")).isEqualTo(2);
    assertThat(snapshot().state()).isEqualTo(EntryState.CURRENT);
    assertThat(snapshot().servedVersion()).hasValue(1);
    assertThat(snapshot().servedSpec()).contains(V1);
    assertThat(leased()).isNotSameAs(first);
    assertThat(first.closes).hasValue(1);
    assertThat(transitions).containsSubsequence("REFRESH_DUE", "BUILD_STARTED", "BUILD_SUCCEEDED");
  }

  @Test
  void aRefreshCountsAsAGenerationAndSupersedesTheLeasesOnTheOldClient() { // C15, C10
    start(builder(scheduler));
    long before = snapshot().generation();
    ClientLease<Client> held = cache.acquireAsync("redis").join();

    scheduler.advance(Duration.ofSeconds(50));

    assertThat(snapshot().generation()).isEqualTo(before + 1);
    assertThat(held.isCurrent()).isFalse();
    assertThat(held.superseded()).isCompleted();
    held.close();
  }

  @Test
  void aClientReportedFailingWhileItIsRefreshedIsNotServedUnderStrict() { // C11 beside C12
    Client first = start(builder(scheduler));
    factory.failure = (key, spec) -> new IOException("down");
    scheduler.advance(Duration.ofSeconds(50)); // the refresh failed: STALE, backing off, still served
    assertThat(leased()).isSameAs(first);

    assertThat(cache.invalidate("redis", new IOException("401 from the registry"))).isTrue();

    CompletableFuture<ClientLease<Client>> strict = cache.acquireAsync("redis");
    assertThat(strict).isNotDone();
    factory.failure = (key, spec) -> null;
    scheduler.advance(Duration.ofSeconds(8));
    try (ClientLease<Client> lease = strict.join()) {
      assertThat(lease.get()).isNotSameAs(first);
    }
  }

  @Test
  void aFailedRefreshKeepsTheClientUntilItsExpiryThenReadersWait() { // C7, C12
    Client first = start(builder(scheduler));
    factory.failure = (key, spec) -> new IOException("token endpoint down");

    scheduler.advance(Duration.ofSeconds(60)); // refresh at 50 s failed, retried with backoff
    assertThat(factory.calls("redis")).isGreaterThan(2);
    assertThat(snapshot().lastError()).hasValueSatisfying(e -> assertThat(e).hasMessage("token endpoint down"));
    assertThat(snapshot().nextRetryNanos()).isPresent();
    assertThat(leased()).isSameAs(first); // strict, and still served: not behind, just refreshing

    scheduler.advance(Duration.ofSeconds(40)); // 100 s: expired
    assertThat(snapshot().servedSpec()).isEmpty();
    assertThat(first.closes).hasValue(1);
    CompletableFuture<ClientLease<Client>> waiting = cache.acquireAsync("redis");
    assertThat(waiting).isNotDone();
    assertThat(transitions).contains("CLIENT_EXPIRED");

    factory.failure = (key, spec) -> null;
    scheduler.advance(Duration.ofSeconds(8)); // the next retry
    assertThat(waiting).isCompleted();
    try (Lease<Client> lease = waiting.join()) {
      assertThat(lease.get()).isNotSameAs(first);
      assertThat(lease.get().closes).hasValue(0);
    }
    assertThat(snapshot().state()).isEqualTo(EntryState.CURRENT);
    assertThat(snapshot().lastError()).isEmpty();
  }

  @Test
  void boundedStalenessNeverServesAnExpiredClient() { // C12, under any freshness
    start(builder(scheduler).freshness(Freshness.boundedStaleness(Duration.ofDays(1))));
    factory.failure = (key, spec) -> new IOException("down");

    scheduler.advance(Duration.ofSeconds(100));

    assertThat(cache.acquireAsync("redis")).isNotDone();
    assertThat(cache.acquireAsync("redis", 1)).isNotDone();
  }

  @Test
  void anExpiredClientIsNotServedEvenBeforeItsTimerRuns() { // C12: readers check the time too
    HoldingScheduler holding = new HoldingScheduler(scheduler, LIFETIME);
    Client first = start(builder(holding).refreshAhead(1.0));
    factory.failure = (key, spec) -> new IOException("down");
    scheduler.advance(Duration.ofSeconds(101)); // the expiry timer was held back: never fires

    CompletableFuture<ClientLease<Client>> waiting = cache.acquireAsync("redis");

    assertThat(waiting).isNotDone();
    assertThat(snapshot().servedSpec()).isEmpty();
    assertThat(first.closes).hasValue(1);
    assertThat(cache.acquireAsync("redis", 1)).isNotDone();
  }

  @Test
  void aLeaseTakenBeforeTheExpiryKeepsItsClientOpenUntilClosed() { // C6 beside C12
    start(builder(scheduler));
    factory.failure = (key, spec) -> new IOException("down");
    Lease<Client> held = cache.acquireAsync("redis").join();

    scheduler.advance(Duration.ofSeconds(150));

    Client client = held.get();
    assertThat(client.closes).hasValue(0);
    held.close();
    assertThat(client.closes).hasValue(1);
  }

  @Test
  void aLifetimeThatThrowsFailsTheBuildAndIsRecorded() {
    lifetime.set((spec, client) -> {
      throw new StackOverflowError("injected");
    });
    cache = builder(scheduler).build();
    CompletableFuture<Snapshot<String, Repo, Client>> upsert = cache.upsert("redis", V1, 1);
    scheduler.runAll();

    assertThat(upsert).isCompletedExceptionally();
    assertThat(snapshot().servedSpec()).isEmpty();
    assertThat(snapshot().lastError()).hasValueSatisfying(e -> assertThat(e)
        .hasMessageContaining("expiry lifetime of 'redis' at version 1 threw")
        .hasCauseInstanceOf(StackOverflowError.class));
    assertThat(factory.built).allSatisfy(c -> assertThat(c.closes).hasValue(1)); // closed unseen
    assertThat(snapshot().nextRetryNanos()).isPresent();

    lifetime.set((spec, client) -> LIFETIME);
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(snapshot().servedSpec()).contains(V1);
  }

  @Test
  void aLifetimeThatIsNullZeroOrNegativeFailsTheBuild() {
    for (Duration bad : new Duration[] {null, Duration.ZERO, Duration.ofSeconds(-1)}) {
      lifetime.set((spec, client) -> bad);
      cache = builder(scheduler).build();
      cache.upsert("redis", V1, 1);
      scheduler.runAll();

      assertThat(snapshot().servedSpec()).as("lifetime %s", bad).isEmpty();
      assertThat(snapshot().lastError()).hasValueSatisfying(e ->
          assertThat(e).hasMessageContaining("must be positive, got " + bad));
      cache.close();
    }
  }

  @Test
  void aLifetimeTooLongForTheClockNeverExpires() {
    lifetime.set((spec, client) -> Duration.ofSeconds(Long.MAX_VALUE));
    Client first = start(builder(scheduler));
    scheduler.advance(Duration.ofDays(365));
    assertThat(leased()).isSameAs(first);
    assertThat(factory.calls("redis")).isEqualTo(1);
  }

  @Test
  void refreshAheadMustBeAFractionOfTheLifetime() {
    for (double bad : new double[] {0, -0.5, 1.01, Double.NaN}) {
      assertThatThrownBy(() -> ClientCache.builder(factory).refreshAhead(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("refreshAhead must be in (0, 1]");
    }
    assertThatThrownBy(() -> ClientCache.builder(factory).expiry(null))
        .isInstanceOf(NullPointerException.class).hasMessage("lifetime");
  }

  @Test
  void withoutAnExpiryAClientServesForever() {
    cache = ClientCache.builder(factory).scheduler(scheduler).build();
    cache.upsert("redis", V1, 1);
    scheduler.runAll();
    Client first = leased();
    scheduler.advance(Duration.ofDays(365));
    assertThat(leased()).isSameAs(first);
  }

  /** A scheduler that never runs the timers of one delay: the expiry timer of a first build. */
  private static final class HoldingScheduler extends ForwardingScheduler {
    private final Duration held;

    HoldingScheduler(ManualScheduler inner, Duration held) {
      super(inner);
      this.held = held;
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      return delay.equals(held) ? () -> { } : inner.schedule(task, delay);
    }
  }
}
