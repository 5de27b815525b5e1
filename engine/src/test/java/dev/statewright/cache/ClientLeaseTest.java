package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.lifecycle.Transition;
import dev.statewright.testing.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** C10 (superseded leases) and C11 (invalidation), on a scheduler that runs nothing until told. */
class ClientLeaseTest {
  private static final Repo V1 = new Repo("https://charts.example/v1");
  private static final Repo V2 = new Repo("https://charts.example/v2");
  private static final IOException UNAUTHORIZED = new IOException("401 Unauthorized");

  private final ManualScheduler scheduler = new ManualScheduler();
  private final Factory factory = new Factory();
  private final List<String> transitions = Collections.synchronizedList(new ArrayList<>());
  private final List<String> pinned = Collections.synchronizedList(new ArrayList<>());
  private ClientCache<String, Repo, Client> cache = builder().build();

  private ClientCache.Builder<String, Repo, Client> builder() {
    return ClientCache.builder(factory)
        .name("repositories")
        .scheduler(scheduler)
        .backoff(Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(60)))
        .listener(new CacheListener<>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            transitions.add(key + ": " + t);
          }

          @Override
          public void onLeasesPinned(String key, long version, List<String> holders) {
            pinned.add(key + "@v" + version + " " + holders);
          }
        });
  }

  @AfterEach
  void closeCache() {
    cache.close();
  }

  private Snapshot<String, Repo, Client> snapshot() {
    return cache.snapshot("redis").orElseThrow();
  }

  private ClientLease<Client> leaseNow() {
    CompletableFuture<ClientLease<Client>> lease = cache.acquireAsync("redis");
    assertThat(lease).as("a lease at once").isCompleted();
    return lease.join();
  }

  private ClientLease<Client> servedV1() {
    cache.upsert("redis", V1, 1);
    scheduler.runAll();
    return leaseNow();
  }

  @Nested
  class Superseded {
    @Test
    void aReplacementTellsEveryLeaseOnceThroughOneSharedStage() { // C10
      ClientLease<Client> first = servedV1();
      ClientLease<Client> second = leaseNow();
      AtomicInteger told = new AtomicInteger();
      first.superseded().thenRun(told::incrementAndGet);
      second.superseded().thenRun(told::incrementAndGet);
      assertThat(first.superseded()).isSameAs(second.superseded());
      assertThat(first.version()).isEqualTo(1);
      assertThat(first.isCurrent()).isTrue();
      assertThat(snapshot().openLeases()).isEqualTo(2);

      cache.upsert("redis", V2, 2);
      assertThat(told).as("not while the old client is still served").hasValue(0);
      scheduler.runAll();

      assertThat(told).hasValue(2);
      assertThat(first.isCurrent()).isFalse();
      assertThat(first.get().builtFrom).as("the lease stays usable").isEqualTo(V1);
      Snapshot<String, Repo, Client> s = snapshot();
      assertThat(s.openLeases()).isZero();
      assertThat(s.retiredClientsInUse()).isEqualTo(1);
      try (ClientLease<Client> fresh = leaseNow()) {
        assertThat(fresh.version()).isEqualTo(2);
        assertThat(fresh.isCurrent()).isTrue();
        assertThat(snapshot().openLeases()).isEqualTo(1);
      }

      first.close();
      second.close();
      assertThat(snapshot().retiredClientsInUse()).isZero();
      assertThat(factory.built.get(0).closes).hasValue(1);
      assertThat(told).as("exactly once").hasValue(2);
    }

    @Test
    void aStageAskedForAfterTheReplacementIsCompleteAlready() { // C10
      ClientLease<Client> old = servedV1();
      cache.upsert("redis", V2, 2);
      scheduler.runAll();

      assertThat(old.superseded().toCompletableFuture()).isCompleted();
      old.close();
    }

    @Test
    void aDeleteAndTheCachesCloseTellTheirLeasesToo() { // C10
      ClientLease<Client> deleted = servedV1();
      cache.upsert("other", V1, 1);
      scheduler.runAll();
      ClientLease<Client> closed = cache.acquireAsync("other").join();

      cache.delete("redis", 2);
      assertThat(deleted.superseded().toCompletableFuture()).isCompleted();
      assertThat(closed.superseded().toCompletableFuture()).isNotDone();
      assertThat(snapshot().retiredClientsInUse()).as("on the tombstone").isEqualTo(1);

      cache.close();
      assertThat(closed.superseded().toCompletableFuture()).isCompleted();
      assertThat(closed.isCurrent()).isFalse();
      deleted.close();
      closed.close();
    }

    @Test
    void noHolderCanCompleteTheSharedStage() {
      try (ClientLease<Client> lease = servedV1()) {
        CompletableFuture<Void> stage = lease.superseded().toCompletableFuture();
        assertThatThrownBy(() -> stage.complete(null))
            .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> stage.completeExceptionally(UNAUTHORIZED))
            .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> stage.cancel(true))
            .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> stage.obtrudeValue(null))
            .isInstanceOf(UnsupportedOperationException.class);
        CompletionStage<Void> dependent = stage.thenRun(() -> { });
        assertThat(dependent.toCompletableFuture().complete(null)).as("dependents are ordinary")
            .isTrue();
        assertThat(stage).isNotDone();
        assertThat(lease.isCurrent()).isTrue();
      }
    }

    @Test
    void aMetadataChangeKeepsTheClientAndItsLeasesCurrent() {
      cache.close();
      cache = builder().changePolicy(ChangePolicy.rebuildWhenChanged(Repo::url)).build();
      try (ClientLease<Client> lease = servedV1()) {
        cache.upsert("redis", V1.withDescription("renamed"), 2);
        scheduler.runAll();

        assertThat(lease.isCurrent()).isTrue();
        assertThat(lease.superseded().toCompletableFuture()).isNotDone();
        assertThat(lease.version()).as("the version it was built from").isEqualTo(1);
      }
    }

    @Test
    void leaseWarningNamesTheHoldersThatPinAReplacedClient() {
      cache.close();
      cache = builder().leaseWarning(Duration.ofMinutes(1)).build();
      ClientLease<Client> pinning = servedV1();
      ClientLease<Client> brief = leaseNow();
      cache.upsert("redis", V2, 2);
      scheduler.runAll();
      brief.close();

      scheduler.advance(Duration.ofSeconds(59));
      assertThat(pinned).isEmpty();
      scheduler.advance(Duration.ofSeconds(2));

      assertThat(pinned).containsExactly("redis@v1 [" + Thread.currentThread().getName() + "]");
      pinning.close();
    }

    @Test
    void noWarningForAReplacedClientWhoseLeasesClosedInTimeNorWithoutLeaseWarning() {
      ClientLease<Client> unwatched = servedV1();
      cache.upsert("redis", V2, 2);
      scheduler.runAll();
      scheduler.advance(Duration.ofMinutes(2));
      assertThat(pinned).as("off by default").isEmpty();
      unwatched.close();

      cache.close();
      cache = builder().leaseWarning(Duration.ofMinutes(1)).build();
      ClientLease<Client> lease = servedV1();
      cache.upsert("redis", V2, 2);
      scheduler.runAll();
      lease.close();
      scheduler.advance(Duration.ofMinutes(2));
      assertThat(pinned).isEmpty();
    }
  }

  @Nested
  class Invalidation {
    @Test
    void anInvalidatedClientIsReplacedAndNeverServedUnderStrict() { // C11
      ClientLease<Client> broken = servedV1();
      AtomicInteger told = new AtomicInteger();
      broken.superseded().thenRun(told::incrementAndGet);

      assertThat(broken.reportFailure(UNAUTHORIZED)).isTrue();

      Snapshot<String, Repo, Client> s = snapshot();
      assertThat(s.state()).isIn(EntryState.STALE, EntryState.REBUILDING);
      assertThat(s.lastError()).containsSame(UNAUTHORIZED);
      assertThat(s.servedVersion()).hasValue(1);
      assertThat(transitions).contains("redis: CURRENT --INVALIDATED--> STALE");
      CompletableFuture<ClientLease<Client>> strict = cache.acquireAsync("redis");
      CompletableFuture<ClientLease<Client>> versioned = cache.acquireAsync("redis", 1);
      assertThat(strict).isNotDone();
      assertThat(versioned).as("not even for a version it was built from").isNotDone();
      assertThat(told).hasValue(0);

      scheduler.runAll();

      assertThat(strict.join().get()).isNotSameAs(broken.get());
      assertThat(versioned.join().get()).isSameAs(strict.join().get());
      assertThat(strict.join().version()).as("the version is kept").isEqualTo(1);
      assertThat(snapshot().generation()).isEqualTo(2);
      assertThat(snapshot().lastError()).isEmpty();
      assertThat(told).hasValue(1);
      assertThat(factory.calls("redis")).isEqualTo(2);
      strict.join().close();
      versioned.join().close();
      broken.close();
    }

    @Test
    void boundedStalenessServesTheInvalidatedClientUntilItsReplacementExists() { // C11
      cache.close();
      cache = builder().freshness(Freshness.boundedStaleness(Duration.ofSeconds(10))).build();
      ClientLease<Client> broken = servedV1();

      assertThat(cache.invalidate("redis", UNAUTHORIZED)).isTrue();

      try (ClientLease<Client> stale = leaseNow()) {
        assertThat(stale.get()).isSameAs(broken.get());
      }
      CompletableFuture<ClientLease<Client>> versioned = cache.acquireAsync("redis", 1);
      assertThat(versioned).as("bounded staleness takes the broken client").isCompleted();
      versioned.join().close();
      scheduler.runAll();
      try (ClientLease<Client> fresh = leaseNow()) {
        assertThat(fresh.get()).isNotSameAs(broken.get());
      }
      broken.close();
    }

    @Test
    void aReportAgainstAReplacedClientChangesNothing() { // C11
      ClientLease<Client> old = servedV1();
      cache.upsert("redis", V2, 2);
      scheduler.runAll();
      Snapshot<String, Repo, Client> before = snapshot();

      assertThat(old.reportFailure(UNAUTHORIZED)).isFalse();

      assertThat(snapshot()).isEqualTo(before);
      assertThat(snapshot().state()).isEqualTo(EntryState.CURRENT);
      assertThat(factory.calls("redis")).isEqualTo(2);
      old.close();
    }

    @Test
    void aSecondReportBeforeTheReplacementAsksForNoSecondBuild() {
      ClientLease<Client> broken = servedV1();
      broken.reportFailure(UNAUTHORIZED);
      IOException refused = new IOException("connection refused");

      assertThat(broken.reportFailure(refused)).as("recorded").isTrue();
      scheduler.runAll();

      assertThat(factory.calls("redis")).isEqualTo(2);
      assertThat(snapshot().generation()).isEqualTo(2);
      broken.close();
    }

    @Test
    void anInvalidationKeepsABackoffInProgress() { // C11, C7
      ClientLease<Client> served = servedV1();
      factory.failure = (key, spec) -> new IOException("connection refused");
      served.reportFailure(UNAUTHORIZED);
      scheduler.runAll();
      OptionalLong retry = snapshot().nextRetryNanos();
      assertThat(retry).isPresent();
      assertThat(snapshot().lastError().orElseThrow()).hasMessage("connection refused");

      assertThat(cache.invalidate("redis", UNAUTHORIZED)).isTrue();
      scheduler.runAll();

      assertThat(snapshot().nextRetryNanos()).isEqualTo(retry);
      assertThat(snapshot().lastError()).containsSame(UNAUTHORIZED);
      assertThat(factory.calls("redis")).as("no build before the backoff ends").isEqualTo(2);
      factory.failure = (key, spec) -> null;
      scheduler.advance(Duration.ofSeconds(5));
      assertThat(snapshot().state()).isEqualTo(EntryState.CURRENT);
      assertThat(served.isCurrent()).isFalse();
      served.close();
    }

    @Test
    void invalidatingAKeyWithNothingServedOrNoEntry() {
      cache.upsert("redis", V1, 1);
      assertThat(cache.invalidate("redis", UNAUTHORIZED)).isFalse();
      assertThat(snapshot().lastError()).isEmpty();
      assertThatThrownBy(() -> cache.invalidate("nope", UNAUTHORIZED))
          .isInstanceOf(NoSuchElementException.class);
      assertThatThrownBy(() -> cache.invalidate("redis", null))
          .isInstanceOf(NullPointerException.class);
    }
  }
}
