package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.event.ManualEventSource;
import dev.statewright.event.Versioned;
import dev.statewright.lease.Lease;
import dev.statewright.lifecycle.Transition;
import dev.statewright.testing.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** C1–C9 and bad input, on a scheduler that runs nothing until told to. */
class ClientCacheTest {
  private static final Repo V1 = new Repo("https://charts.example/v1");
  private static final Repo V2 = new Repo("https://charts.example/v2");
  private static final Repo V3 = new Repo("https://charts.example/v3");

  private final ManualScheduler scheduler = new ManualScheduler();
  private final Factory factory = new Factory();
  private final List<String> transitions = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger buildsRunning = new AtomicInteger();
  private final AtomicInteger maxBuildsRunning = new AtomicInteger();
  private ClientCache<String, Repo, Client> cache = builder().build();

  private ClientCacheBuilder<String, Repo, Client> builder() {
    ClientFactory<String, Repo, Client> counted = (key, spec) -> {
      try {
        return factory.build(key, spec);
      } finally {
        buildsRunning.decrementAndGet(); // the call returned: its permit is no longer a build's (C8)
      }
    };
    return ClientCache.builder(counted)
        .name("repositories")
        .scheduler(scheduler)
        .backoff(Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(60)))
        .dependsOn(repo -> repo.tokenRef() == null ? Set.of() : Set.of(repo.tokenRef()))
        .listener(new CacheListener<>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            transitions.add(key + ": " + t);
          }

          @Override
          public void onBuildStarted(String key, long version) {
            maxBuildsRunning.accumulateAndGet(buildsRunning.incrementAndGet(), Math::max);
          }

        });
  }

  @AfterEach
  void closeCache() {
    cache.close();
  }

  private Snapshot<String, Repo, Client> snapshot(String key) {
    return cache.snapshot(key).orElseThrow();
  }

  private Client served(String key) {
    try (Lease<Client> lease = cache.acquireAsync(key, 0).join()) {
      return lease.get();
    }
  }

  @Test
  void upsertCompletesOnceTheNewClientIsServed() {
    CompletableFuture<Snapshot<String, Repo, Client>> done = cache.upsert("redis", V1, 1);
    assertThat(done).isNotDone();
    assertThat(snapshot("redis").state()).isEqualTo(EntryState.REBUILDING);

    scheduler.runAll();

    assertThat(done).isCompleted();
    Snapshot<String, Repo, Client> s = done.join();
    assertThat(s.state()).isEqualTo(EntryState.CURRENT);
    assertThat(s.servedVersion()).hasValue(1);
    assertThat(s.servedSpec()).contains(V1);
    assertThat(served("redis").builtFrom).isEqualTo(V1);
    assertThat(transitions).containsExactly("redis: STALE --BUILD_STARTED--> REBUILDING",
        "redis: REBUILDING --BUILD_SUCCEEDED--> CURRENT");
  }

  @Nested
  class SingleFlightAndCoalescing {
    @Test
    void updatesDuringABuildCauseOneMoreBuildOfTheNewestSpec() { // C1, C3
      cache.upsert("redis", V1, 1);
      cache.upsert("redis", V2, 2);
      CompletableFuture<Snapshot<String, Repo, Client>> last = cache.upsert("redis", V3, 3);

      scheduler.runAll();

      assertThat(factory.calls("redis")).isEqualTo(2);
      assertThat(factory.built).extracting(c -> c.builtFrom).containsExactly(V1, V3);
      assertThat(last.join().servedSpec()).contains(V3);
      assertThat(snapshot("redis").state()).isEqualTo(EntryState.CURRENT);
      assertThat(transitions).contains("redis: REBUILDING --BUILD_SUPERSEDED--> REBUILDING");
    }

    @Test
    void aThousandUpdatesDuringOneBuildCauseAtMostTwoBuilds() { // C3
      for (int v = 1; v <= 1000; v++) {
        cache.upsert("redis", new Repo("https://charts.example/" + v), v);
      }
      scheduler.runAll();

      assertThat(factory.calls("redis")).isLessThanOrEqualTo(2);
      assertThat(snapshot("redis").servedSpec()).contains(new Repo("https://charts.example/1000"));
      assertThat(factory.maxInFlight).hasValue(1);
    }

    @Test
    void supersededClientIsServedWhileTheNextBuildRuns() { // C3
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      cache.upsert("redis", V2, 2);
      cache.upsert("redis", V3, 3);
      scheduler.runAll();

      assertThat(factory.built).extracting(c -> c.builtFrom).containsExactly(V1, V2, V3);
    }
  }

  @Nested
  class Monotonic {
    @Test
    void olderAndDuplicateVersionsChangeNothing() { // C2
      cache.upsert("redis", V2, 5);
      scheduler.runAll();
      CompletableFuture<Snapshot<String, Repo, Client>> older = cache.upsert("redis", V1, 3);
      CompletableFuture<Snapshot<String, Repo, Client>> duplicate = cache.upsert("redis", V2, 5);
      CompletableFuture<Snapshot<String, Repo, Client>> conflict = cache.upsert("redis", V3, 5);
      scheduler.runAll();

      assertThat(snapshot("redis").desiredSpec()).isEqualTo(V2);
      assertThat(snapshot("redis").servedVersion()).hasValue(5);
      assertThat(older.join().servedVersion()).hasValue(5);
      assertThat(duplicate.join().servedSpec()).contains(V2);
      assertThatThrownBy(conflict::join).hasCauseInstanceOf(StaleVersionException.class);
      assertThat(factory.calls("redis")).isEqualTo(1);
    }

    @Test
    void aTombstoneStopsALateOlderUpsertButNotANewerOne() { // C2
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      cache.delete("redis", 7).join();

      assertThat(snapshot("redis").state()).isEqualTo(EntryState.REMOVED);
      assertThat(cache.list()).isEmpty();
      assertThatThrownBy(() -> cache.upsert("redis", V2, 6).join())
          .hasCauseInstanceOf(StaleVersionException.class)
          .hasMessageContaining("upsert of 'redis' at version 6 ignored: it was deleted at version 7");

      CompletableFuture<Snapshot<String, Repo, Client>> readded = cache.upsert("redis", V3, 8);
      scheduler.runAll();
      assertThat(readded.join().servedSpec()).contains(V3);
    }

    @Test
    void aDeleteOfAKeyNeverSeenStillLeavesATombstone() { // C2
      cache.delete("ghost", 4).join();
      assertThatThrownBy(() -> cache.upsert("ghost", V1, 3).join())
          .hasCauseInstanceOf(StaleVersionException.class);
      assertThat(cache.snapshot("ghost")).hasValueSatisfying(
          s -> assertThat(s.state()).isEqualTo(EntryState.REMOVED));
    }

    @Test
    void anOlderDeleteIsRefused() { // C2
      cache.upsert("redis", V1, 5);
      assertThatThrownBy(() -> cache.delete("redis", 4).join())
          .hasCauseInstanceOf(StaleVersionException.class)
          .hasMessageContaining("it holds version 5");
    }

    @Test
    void tombstonesArePurgedAfterTheirRetention() {
      cache.close();
      cache = builder().tombstoneRetention(Duration.ofMinutes(1)).build();
      cache.delete("redis", 3).join();
      scheduler.advance(Duration.ofMinutes(2));

      assertThat(cache.snapshot("redis")).isEmpty();
    }
  }

  @Nested
  class HonestListingAndDisposal {
    @Test
    void servedSpecIsAlwaysTheSpecTheServedClientWasBuiltFrom() { // C5
      for (int v = 1; v <= 20; v++) {
        cache.upsert("redis", new Repo("https://charts.example/" + v), v);
        if (v % 3 == 0) {
          scheduler.runAll();
        }
        for (Snapshot<String, Repo, Client> s : cache.list()) {
          if (s.servedSpec().isPresent()) {
            assertThat(s.servedSpec()).contains(served(s.key()).builtFrom);
          }
        }
      }
    }

    @Test
    void aReplacedClientIsClosedOnceAfterItsLastLease() { // C6
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      Lease<Client> reader = cache.acquireAsync("redis", 1).join();
      Client old = reader.get();

      cache.upsert("redis", V2, 2);
      scheduler.runAll();
      assertThat(served("redis").builtFrom).isEqualTo(V2);
      assertThat(old.closes).as("still leased").hasValue(0);

      reader.close();
      reader.close();
      assertThat(old.closes).hasValue(1);
    }

    @Test
    void aDeletedKeysClientIsClosedAfterItsLastLeaseAndReadsFail() { // C6
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      Lease<Client> reader = cache.acquireAsync("redis", 1).join();
      cache.delete("redis", 2).join();

      assertThat(reader.get().closes).hasValue(0);
      reader.close();
      assertThat(factory.built.get(0).closes).hasValue(1);
      assertThatThrownBy(() -> cache.acquire("redis"))
          .isInstanceOf(NoSuchElementException.class)
          .hasMessage("'redis' was removed from repositories at version 2");
    }

    @Test
    void aBuildFinishingAfterItsKeyWasDeletedIsClosedUnseen() { // C6
      cache.upsert("redis", V1, 1);
      CompletableFuture<Snapshot<String, Repo, Client>> pending = cache.upsert("redis", V2, 2);
      cache.delete("redis", 3).join();
      scheduler.runAll();

      assertThat(factory.built).allSatisfy(c -> assertThat(c.closes).hasValue(1));
      assertThatThrownBy(pending::join).hasCauseInstanceOf(NoSuchElementException.class);
    }
  }

  @Nested
  class BoundedFailure {
    @Test
    void aFailingBuildKeepsTheLastGoodClientAndRetriesWithBackoff() { // C7, C4
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      IOException refused = new IOException("connection refused");
      factory.failure = (key, spec) -> spec.equals(V2) ? refused : null;

      CompletableFuture<Snapshot<String, Repo, Client>> update = cache.upsert("redis", V2, 2);
      scheduler.runAll();

      assertThatThrownBy(update::join).isInstanceOf(CompletionException.class).hasCause(refused);
      Snapshot<String, Repo, Client> s = snapshot("redis");
      assertThat(s.state()).isEqualTo(EntryState.STALE);
      assertThat(s.servedSpec()).contains(V1);
      assertThat(s.lastError()).contains(refused);
      long firstRetry = s.nextRetryNanos().orElseThrow() - scheduler.nanoTime();
      assertThat(firstRetry).isBetween(Duration.ofMillis(500).toNanos(), Duration.ofSeconds(1).toNanos());

      scheduler.advance(Duration.ofSeconds(1));
      assertThat(factory.calls("redis")).isEqualTo(3);
      long secondRetry = snapshot("redis").nextRetryNanos().orElseThrow() - scheduler.nanoTime();
      assertThat(secondRetry).isBetween(Duration.ofSeconds(1).toNanos(), Duration.ofSeconds(2).toNanos());

      factory.failure = (key, spec) -> null;
      scheduler.advance(Duration.ofSeconds(2));
      assertThat(snapshot("redis").state()).isEqualTo(EntryState.CURRENT);
      assertThat(snapshot("redis").lastError()).isEmpty();
      assertThat(snapshot("redis").nextRetryNanos()).isEmpty();
      assertThat(served("redis").builtFrom).isEqualTo(V2);
    }

    @Test
    void aNewSpecResetsTheBackoffAndBuildsAtOnce() { // C7
      factory.failure = (key, spec) -> spec.equals(V1) ? new IOException("bad url") : null;
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      scheduler.advance(Duration.ofSeconds(5));
      assertThat(factory.calls("redis")).isGreaterThan(1);

      CompletableFuture<Snapshot<String, Repo, Client>> fixed = cache.upsert("redis", V2, 2);
      scheduler.runAll();

      assertThat(fixed).isCompleted();
      assertThat(fixed.join().servedSpec()).contains(V2);
    }

    @Test
    void aFactoryReturningNullIsAFailedBuildThatSaysSo() {
      ClientCache<String, Repo, Client> nulls = ClientCache.<String, Repo, Client>builder(
          (key, spec) -> null).scheduler(scheduler).build();
      CompletableFuture<Snapshot<String, Repo, Client>> f = nulls.upsert("redis", V1, 1);
      scheduler.runAll();

      assertThatThrownBy(f::join).hasCauseInstanceOf(NullPointerException.class)
          .hasMessageContaining("factory returned null for 'redis' at version 1");
      nulls.close();
    }
  }

  @Test
  void noMoreThanMaxConcurrentBuildsRunAtOnce() { // C8
    cache.close();
    cache = builder().maxConcurrentBuilds(2).build();
    for (int i = 0; i < 6; i++) {
      cache.upsert("repo-" + i, V1, 1);
    }
    assertThat(buildsRunning).as("started before any finished").hasValue(2);
    assertThat(cache.list()).filteredOn(s -> s.state() == EntryState.STALE).hasSize(4);

    scheduler.runAll();

    assertThat(maxBuildsRunning).hasValue(2);
    assertThat(cache.list()).allSatisfy(s -> assertThat(s.state()).isEqualTo(EntryState.CURRENT));
  }

  @Nested
  class Dependencies {
    @Test
    void aChangedDependencyRebuildsOnlyItsDependents() { // C9
      Repo withToken = new Repo("https://a.example", "secret/a", "");
      cache.upsert("a", withToken, 1);
      cache.upsert("b", new Repo("https://b.example", "secret/b", ""), 1);
      scheduler.runAll();

      CompletableFuture<Void> rebuilt = cache.dependencyChanged("secret/a");
      assertThat(snapshot("a").state()).isIn(EntryState.STALE, EntryState.REBUILDING);
      assertThat(snapshot("b").state()).isEqualTo(EntryState.CURRENT);
      scheduler.runAll();

      assertThat(rebuilt).isCompleted();
      assertThat(factory.calls("a")).isEqualTo(2);
      assertThat(factory.calls("b")).isEqualTo(1);
      assertThat(snapshot("a").servedVersion()).hasValue(1);
      assertThat(factory.built.get(0).closes).as("the client built with the old token").hasValue(1);
      assertThat(transitions).contains("a: CURRENT --DEPENDENCY_CHANGED--> STALE");
    }

    @Test
    void anEventOnAKeyOfTheCacheRebuildsEntriesThatDependOnIt() { // C9
      cache.upsert("app", new Repo("https://app.example", "token-store", ""), 1);
      cache.upsert("token-store", V1, 1);
      scheduler.runAll();
      int before = factory.calls("app");

      cache.upsert("token-store", V2, 2);
      scheduler.runAll();

      assertThat(factory.calls("app")).isEqualTo(before + 1);
    }

    @Test
    void aDependencyNobodyUsesCompletesAtOnce() {
      assertThat(cache.dependencyChanged("nothing")).isCompleted();
    }
  }

  @Nested
  class Freshness_ {
    @Test
    void boundedStalenessServesTheLastClientWithinTheBound() {
      cache.close();
      cache = builder().freshness(Freshness.boundedStaleness(Duration.ofSeconds(10))).build();
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      cache.upsert("redis", V2, 2);

      try (Lease<Client> stale = cache.acquire("redis")) {
        assertThat(stale.get().builtFrom).isEqualTo(V1);
      }
      scheduler.advance(Duration.ofSeconds(11));
      try (Lease<Client> fresh = cache.acquire("redis")) {
        assertThat(fresh.get().builtFrom).isEqualTo(V2);
      }
    }

    @Test
    void acquireAsyncWaitsForTheVersionAndTimesOutWithTheLastError() {
      cache.close();
      cache = builder().acquireTimeout(Duration.ofSeconds(5)).build();
      IOException refused = new IOException("connection refused");
      factory.failure = (key, spec) -> refused;
      cache.upsert("redis", V1, 1);

      CompletableFuture<ClientLease<Client>> lease = cache.acquireAsync("redis", 1);
      scheduler.runAll();
      assertThat(lease).isNotDone();
      scheduler.advance(Duration.ofSeconds(6));

      assertThatThrownBy(lease::join).hasCauseInstanceOf(ClientUnavailableException.class)
          .hasRootCauseMessage("connection refused")
          .hasMessageContaining("no client for 'redis' within PT5S");
    }

    @Test
    void acquireAsyncOfAnUnknownKeyFailsAtOnceNamingIt() {
      assertThatThrownBy(() -> cache.acquireAsync("nope", 1).join())
          .hasCauseInstanceOf(NoSuchElementException.class)
          .hasMessageContaining("no entry for 'nope' in repositories");
      assertThatThrownBy(() -> cache.acquire("nope")).isInstanceOf(NoSuchElementException.class);
    }
  }

  @Test
  void metadataOnlyChangesKeepTheClientAndServeTheNewSpec() {
    cache.close();
    cache = builder().changePolicy(ChangePolicy.rebuildWhenChanged(Repo::url, Repo::tokenRef)).build();
    cache.upsert("redis", V1, 1);
    scheduler.runAll();
    Client client = served("redis");

    CompletableFuture<Snapshot<String, Repo, Client>> renamed =
        cache.upsert("redis", V1.withDescription("cache charts"), 2);

    assertThat(renamed).isCompleted();
    assertThat(renamed.join().servedSpec()).contains(V1.withDescription("cache charts"));
    assertThat(served("redis")).isSameAs(client);
    assertThat(factory.calls("redis")).isEqualTo(1);
    assertThat(transitions).contains("redis: CURRENT --METADATA_CHANGED--> CURRENT");
  }

  @Test
  void resyncUpsertsWhatItListsAndDeletesTheRest() {
    cache.upsert("a", V1, 1);
    cache.upsert("b", V1, 1);
    scheduler.runAll();

    cache.resync(Map.of("a", Versioned.of(V2, 2), "c", Versioned.of(V3, 1)));
    scheduler.runAll();

    assertThat(cache.list()).extracting(Snapshot::key).containsExactlyInAnyOrder("a", "c");
    assertThat(snapshot("a").servedSpec()).contains(V2);
    assertThat(snapshot("b").state()).isEqualTo(EntryState.REMOVED);
  }

  @Test
  void aResyncAsOfAVersionKeepsNewerKeysAndTombstonesTheRestAtThatVersion() {
    cache.upsert("old", V1, 3);
    cache.upsert("new", V1, 9); // arrived after the snapshot below was taken
    scheduler.runAll();

    cache.resync(Map.of(), 5);

    assertThat(snapshot("new").state()).isEqualTo(EntryState.CURRENT);
    assertThat(snapshot("old").state()).isEqualTo(EntryState.REMOVED);
    assertThat(snapshot("old").desiredVersion()).isEqualTo(5);
    assertThatThrownBy(() -> cache.upsert("old", V2, 4).join()).hasCauseInstanceOf(StaleVersionException.class);
  }

  @Test
  void aStaleResyncWithoutAVersionCannotBlockAKeyForever() {
    cache.upsert("k", V1, 7);
    scheduler.runAll();

    cache.resync(Map.of()); // a snapshot from before k existed, delivered late
    assertThat(snapshot("k").state()).isEqualTo(EntryState.REMOVED);
    assertThatThrownBy(() -> cache.upsert("k", V1, 7).join()).as("events are still held to the tombstone")
        .hasCauseInstanceOf(StaleVersionException.class);

    cache.resync(Map.of("k", Versioned.of(V1, 7))); // the next relist lists it again
    scheduler.runAll();
    assertThat(snapshot("k").state()).isEqualTo(EntryState.CURRENT);
  }

  @Test
  void sourcesFeedTheCacheAndRejectionsAreRecordedAgainstTheKey() {
    ManualEventSource<String, Repo> source = new ManualEventSource<>();
    source.upsert("redis", V1, 1);
    cache.close();
    cache = builder().source(source).build();
    scheduler.runAll();
    assertThat(snapshot("redis").servedSpec()).contains(V1);

    source.reject("redis", new IllegalArgumentException("cannot parse redis.properties"));
    assertThat(snapshot("redis").lastError()).hasValueSatisfying(
        e -> assertThat(e).hasMessage("cannot parse redis.properties"));
    source.upsert("redis", null, 2); // a bad event from a source is recorded, never thrown back

    assertThat(snapshot("redis").lastError()).hasValueSatisfying(
        e -> assertThat(e).isInstanceOf(NullPointerException.class).hasMessage("spec"));
    assertThat(snapshot("redis").servedSpec()).contains(V1);
    cache.close();
    assertThatThrownBy(() -> source.upsert("redis", V2, 3)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aSourcesResyncDeletesOnlyTheKeysThatSourceDelivered() {
    ManualEventSource<String, Repo> files = new ManualEventSource<>();
    ManualEventSource<String, Repo> api = new ManualEventSource<>();
    cache.close();
    cache = builder().source(files).source(api).build();
    files.upsert("from-files", V1, 1);
    api.upsert("from-api", V1, 1);
    scheduler.runAll();

    files.resync(Map.of());

    assertThat(snapshot("from-files").state()).isEqualTo(EntryState.REMOVED);
    assertThat(snapshot("from-api").state()).isEqualTo(EntryState.CURRENT);
  }

  @Test
  void aSourceWhoseStartThrowsIsRestartedWithBackoff() {
    AtomicInteger starts = new AtomicInteger();
    ManualEventSource<String, Repo> inner = new ManualEventSource<>();
    inner.upsert("redis", V1, 1);
    cache.close();
    cache = builder().source(new dev.statewright.event.EventSource<>() {
      @Override
      public void start(dev.statewright.event.EventSink<String, Repo> sink) {
        if (starts.incrementAndGet() < 3) {
          throw new IllegalStateException("store unreachable");
        }
        inner.start(sink);
      }

      @Override
      public void close() {
        inner.close();
      }
    }).build();
    assertThat(starts).hasValue(1);

    scheduler.advance(Duration.ofSeconds(5));

    assertThat(starts).hasValue(3);
    assertThat(snapshot("redis").servedSpec()).contains(V1);
  }

  @Test
  void dependencyChangesArriveThroughSourcesToo() {
    ManualEventSource<String, Repo> source = new ManualEventSource<>();
    cache.close();
    cache = builder().source(source).build();
    source.upsert("a", new Repo("https://a.example", "secret/a", ""), 1);
    scheduler.runAll();

    source.dependencyChanged("secret/a");
    scheduler.runAll();

    assertThat(factory.calls("a")).isEqualTo(2);
  }

  @Test
  void closeReleasesEveryClientAndRefusesFurtherWork() {
    cache.upsert("a", V1, 1);
    cache.upsert("b", V1, 1);
    scheduler.runAll();

    cache.close();
    cache.close();

    assertThat(factory.built).allSatisfy(c -> assertThat(c.closes).hasValue(1));
    assertThatThrownBy(() -> cache.upsert("a", V2, 2).join())
        .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("repositories is closed");
    assertThatThrownBy(() -> cache.acquire("a")).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void badInputIsRefusedWithAClearMessage() {
    assertThatThrownBy(() -> cache.upsert(null, V1, 1)).isInstanceOf(NullPointerException.class)
        .hasMessage("key");
    assertThatThrownBy(() -> cache.upsert("  ", V1, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("key must not be blank");
    assertThatThrownBy(() -> cache.upsert("redis", null, 1)).isInstanceOf(NullPointerException.class)
        .hasMessage("spec of redis");
    assertThatThrownBy(() -> cache.upsert("redis", V1, -1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("version of 'redis' must be >= 0, got -1");
    assertThatThrownBy(() -> cache.delete("redis", -5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ClientCache.builder(factory).maxConcurrentBuilds(0))
        .hasMessageContaining("maxConcurrentBuilds must be >= 1, got 0");
    assertThatThrownBy(() -> ClientCache.builder(factory).buildTimeout(Duration.ofSeconds(-1)))
        .hasMessageContaining("buildTimeout must not be negative");
  }

  @Test
  void snapshotsNeverShowSpecsSoCredentialsStayOutOfLogs() {
    cache.upsert("redis", new Repo("https://user:hunter2@charts.example", "secret/a", ""), 1);
    scheduler.runAll();

    assertThat(snapshot("redis").toString()).doesNotContain("hunter2")
        .isEqualTo("Snapshot[redis, CURRENT, desired=v1, served=v1]");
    assertThat(Versioned.of("hunter2", 3).toString()).doesNotContain("hunter2");
  }
}
