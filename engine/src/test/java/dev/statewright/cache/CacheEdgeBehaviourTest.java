package dev.statewright.cache;

import static dev.statewright.cache.TestClients.versioned;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.ManualEventSource;
import dev.statewright.lease.Lease;
import dev.statewright.testing.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Edges of the cache's behaviour that nothing else pinned: tombstones replaced by newer deletes,
 * the version a superseded build serves and releases under, fail-fast at version 0, a throwing
 * backoff, an interrupt delivered by abandonment, events after close, the dependency footprint and
 * the consistent read's deadline. Each on a scheduler that runs nothing until told to.
 */
class CacheEdgeBehaviourTest {
  private final ManualScheduler scheduler = new ManualScheduler();
  private final List<AutoCloseable> closeAfter = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : closeAfter) {
      c.close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    closeAfter.add(c);
    return c;
  }

  private ClientCacheBuilder<String, Repo, Client> async(AsyncClientFactory<String, Repo, Client> f) {
    return ClientCache.asyncBuilder(f).scheduler(scheduler).backoff(Backoff.fixed(Duration.ofMinutes(1)));
  }

  @Test
  void aNewerDeleteOfATombstoneMovesItOnAndAnEqualOneLeavesItAsItIs() {
    ClientCache<String, Repo, Client> cache = closing(ClientCache.builder(new Factory())
        .scheduler(scheduler).tombstoneRetention(Duration.ofMinutes(10)).build());
    cache.upsert("redis", versioned(1), 1);
    scheduler.runAll();
    cache.delete("redis", 5);
    scheduler.advance(Duration.ofMinutes(6));

    assertThat(cache.delete("redis", 5)).as("an equal delete is a duplicate").isCompleted();
    scheduler.advance(Duration.ofMinutes(5));
    assertThat(cache.snapshot("redis")).as("the first delete's retention is over").isEmpty();

    cache.delete("redis", 7); // a tombstone for a key no longer known
    assertThat(cache.delete("redis", 9)).isCompleted();
    assertThat(cache.snapshot("redis").orElseThrow().desiredVersion()).isEqualTo(9);
    assertThatThrownBy(() -> cache.upsert("redis", versioned(8), 8).join())
        .hasCauseInstanceOf(StaleVersionException.class).hasMessageContaining("deleted at version 9");
  }

  @Test
  void aSupersededBuildIsServedAndReleasedUnderItsOwnVersion() {
    List<CompletableFuture<Client>> pending = new ArrayList<>();
    List<String> released = new ArrayList<>();
    ClientCache<String, Repo, Client> cache = closing(async((key, spec) -> {
      CompletableFuture<Client> f = new CompletableFuture<>();
      pending.add(f);
      return f;
    }).listener(new CacheListener<>() {
      @Override
      public void onClientReleased(String key, long version) {
        released.add(key + "@" + version);
      }
    }).build());
    cache.upsert("redis", versioned(1), 1);
    cache.upsert("redis", versioned(2), 2);
    pending.get(0).complete(new Client("redis", versioned(1), 1));

    Snapshot<String, Repo, Client> s = cache.snapshot("redis").orElseThrow();
    assertThat(s.state()).isEqualTo(EntryState.REBUILDING);
    assertThat(s.servedVersion()).hasValue(1);
    assertThat(s.servedSpec()).contains(versioned(1));
    assertThat(pending).as("the newest spec builds at once").hasSize(2);

    pending.get(1).complete(new Client("redis", versioned(2), 2));
    assertThat(released).containsExactly("redis@1");
    cache.delete("redis", 3);
    assertThat(released).containsExactly("redis@1", "redis@2");
  }

  @Test
  void aStrictAcquireFailsAtOnceWhenTheBuildOfVersionZeroFails() {
    AtomicReference<CompletableFuture<Client>> build = new AtomicReference<>();
    ClientCache<String, Repo, Client> cache = closing(async((key, spec) -> {
      build.set(new CompletableFuture<>());
      return build.get();
    }).build());
    cache.upsert("redis", versioned(0), 0);
    CompletableFuture<ClientLease<Client>> read = cache.acquireAsync("redis");

    build.get().completeExceptionally(new IOException("unreachable"));

    assertThat(read).isCompletedExceptionally();
    assertThatThrownBy(read::join).hasCauseInstanceOf(ClientUnavailableException.class)
        .hasRootCauseMessage("unreachable");
  }

  @Test
  void aBackoffThatThrowsOnceNeitherWedgesTheKeyNorLosesThePermit() {
    AtomicInteger delays = new AtomicInteger();
    IllegalStateException refused = new IllegalStateException("backoff refused");
    ClientCache<String, Repo, Client> cache = closing(ClientCache.<String, Repo, Client>asyncBuilder(
        (key, spec) -> CompletableFuture.failedFuture(new IOException("down")))
        .scheduler(scheduler).maxConcurrentBuilds(1)
        .backoff((failures, random) -> {
          if (delays.getAndIncrement() == 0) {
            throw refused;
          }
          return Duration.ofMinutes(1);
        }).build());

    cache.upsert("redis", versioned(1), 1);

    Snapshot<String, Repo, Client> s = cache.snapshot("redis").orElseThrow();
    assertThat(s.state()).isEqualTo(EntryState.STALE);
    assertThat(s.lastError()).containsSame(refused);
    assertThat(s.nextRetryNanos()).isPresent();
    assertThat(cache.footprint().permitsAvailable()).isEqualTo(1);
  }

  @Test
  void anInterruptDeliveredByAbandonmentIsClearedWhenTheBlockingBuildReturns() {
    AtomicReference<ClientCache<String, Repo, Client>> self = new AtomicReference<>();
    AtomicReference<Boolean> interruptedInside = new AtomicReference<>();
    ClientCache<String, Repo, Client> cache = closing(ClientCache.<String, Repo, Client>builder(
        (key, spec) -> {
          self.get().delete(key, 2); // abandons this very build, on this thread
          interruptedInside.set(Thread.currentThread().isInterrupted());
          return new Client(key, spec, 1);
        }).scheduler(scheduler).build());
    self.set(cache);
    cache.upsert("redis", versioned(1), 1);

    scheduler.runAll(); // the worker is this thread

    assertThat(interruptedInside.get()).as("the factory was interrupted").isTrue();
    assertThat(Thread.interrupted()).as("and the worker thread is not, afterwards").isFalse();
    assertThat(cache.snapshot("redis").orElseThrow().state()).isEqualTo(EntryState.REMOVED);
  }

  @Test
  void aDeleteASourceDeliversAfterCloseLeavesNoTombstone() {
    AtomicReference<EventSink<String, Repo>> sink = new AtomicReference<>();
    ClientCache<String, Repo, Client> cache = ClientCache.builder(new Factory()).scheduler(scheduler)
        .source(new EventSource<String, Repo>() {
          @Override
          public void start(EventSink<String, Repo> s) {
            sink.set(s);
          }

          @Override
          public void close() { }
        }).build();
    cache.close();

    sink.get().delete("never-seen", 3);
    sink.get().upsert("also-new", versioned(1), 1);

    assertThat(cache.snapshot("never-seen")).isEmpty();
    assertThat(cache.snapshot("also-new")).isEmpty();
  }

  @Test
  void theFootprintCountsEachKeyOncePerDependency() {
    ClientCache<String, Repo, Client> cache = closing(ClientCache.builder(new Factory())
        .scheduler(scheduler).dependsOn(spec -> Set.of("secret/" + spec.url().length(), "secret/all"))
        .build());
    cache.upsert("a", new Repo("https://a"), 1);
    cache.upsert("b", new Repo("https://bb"), 1);
    scheduler.runAll();

    assertThat(cache.footprint().dependencyIndexSize()).isEqualTo(4);
    cache.delete("a", 2);
    assertThat(cache.footprint().dependencyIndexSize()).isEqualTo(2);
  }

  @Test
  void aConsistentReadWaitsForProgressUntilItsDeadlineNotFromTheStart() {
    ManualEventSource<String, Repo> store = new ManualEventSource<>();
    ClientCache<String, Repo, Client> cache = closing(ClientCache.builder(new Factory())
        .scheduler(scheduler).acquireTimeout(Duration.ofSeconds(5)).source(store).build());
    store.upsert("redis", versioned(3), 3);
    store.progress(3);
    store.storeVersion(4);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> read = cache.acquireConsistent("redis");
    scheduler.advance(Duration.ofSeconds(4));
    assertThat(read).as("4 s of a 5 s timeout").isNotDone();

    store.progress(4);
    scheduler.runAll();
    try (Lease<Client> lease = read.join()) {
      assertThat(lease.get().builtFrom).isEqualTo(versioned(3));
    }
  }

  @Test
  void aRetryTimerOvertakenByANewerSpecStartsNothing() {
    AtomicInteger calls = new AtomicInteger();
    ClientCache<String, Repo, Client> cache = closing(async((key, spec) -> {
      calls.incrementAndGet();
      return CompletableFuture.failedFuture(new IOException("down"));
    }).build());
    cache.upsert("redis", versioned(1), 1); // fails: a retry at +60 s
    scheduler.advance(Duration.ofSeconds(10));
    cache.upsert("redis", versioned(2), 2); // builds at once, fails: a retry at +70 s
    assertThat(calls).hasValue(2);

    scheduler.advance(Duration.ofSeconds(55)); // the first retry's timer fires, stale
    assertThat(calls).as("the overtaken timer starts nothing").hasValue(2);
    scheduler.advance(Duration.ofSeconds(10));
    assertThat(calls).hasValue(3);
  }

  @Test
  void aDuplicateEventFromASourceChangesNothingAndRecordsNoError() {
    ManualEventSource<String, Repo> store = new ManualEventSource<>();
    ClientCache<String, Repo, Client> cache = closing(ClientCache.builder(new Factory())
        .scheduler(scheduler).source(store).build());
    store.upsert("redis", versioned(1), 1);
    scheduler.runAll();
    Snapshot<String, Repo, Client> before = cache.snapshot("redis").orElseThrow();

    store.upsert("redis", versioned(1), 1);

    assertThat(cache.snapshot("redis")).contains(before);
    assertThat(before.lastError()).isEmpty();
  }

  @Test
  void readsThatCannotStartFailTheirFutureInsteadOfThrowing() {
    ManualEventSource<String, Repo> store = new ManualEventSource<>();
    ClientCache<String, Repo, Client> cache = closing(ClientCache.builder(new Factory())
        .name("reads").scheduler(scheduler).source(store).build());
    cache.upsert("given", versioned(1), 1);
    scheduler.runAll();

    assertThatThrownBy(() -> cache.acquireAsync("nope").join())
        .hasCauseInstanceOf(java.util.NoSuchElementException.class);
    assertThatThrownBy(() -> cache.acquireConsistent("given").join())
        .hasCauseInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("given through the cache's API");
    assertThat(cache).hasToString("ClientCache[reads, 1 entries]");
  }

  @Test
  void aBlockingAcquireThrowsTheUnavailableErrorItselfNotAWrapper() {
    try (ClientCache<String, Repo, Client> cache = ClientCache.<String, Repo, Client>asyncBuilder(
        (key, spec) -> CompletableFuture.failedFuture(new IOException("down")))
        .acquireTimeout(Duration.ofMillis(20)).backoff(Backoff.fixed(Duration.ofMinutes(1))).build()) {
      cache.upsert("redis", versioned(1), 1);

      assertThatThrownBy(() -> cache.acquire("redis")).isInstanceOf(ClientUnavailableException.class)
          .hasMessageContaining("no client for 'redis' within PT0.02S");
    }
  }
}
