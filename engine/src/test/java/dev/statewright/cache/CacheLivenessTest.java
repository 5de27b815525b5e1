package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.ManualEventSource;
import dev.statewright.event.Versioned;
import dev.statewright.lease.Lease;
import dev.statewright.lifecycle.Transition;
import dev.statewright.testing.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Liveness: nothing a factory, closer, listener, source, change policy or caller does stalls the
 * cache, loses a permit or leaks a client. Each test pins one failure seen from outside.
 */
class CacheLivenessTest {
  private static final Repo V1 = new Repo("https://charts.example/v1");
  private static final Repo V2 = new Repo("https://charts.example/v2");
  private static final Repo V3 = new Repo("https://charts.example/v3");
  private static final Duration HANG_GUARD = Duration.ofSeconds(20);

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

  private ClientCacheBuilder<String, Repo, Client> blocking(ClientFactory<String, Repo, Client> f) {
    return ClientCache.builder(f).scheduler(scheduler)
        .backoff(Backoff.fixed(Duration.ofMinutes(1)));
  }

  private ClientCacheBuilder<String, Repo, Client> async(AsyncClientFactory<String, Repo, Client> f) {
    return ClientCache.asyncBuilder(f).scheduler(scheduler)
        .backoff(Backoff.fixed(Duration.ofMinutes(1)));
  }

  /** The bulkhead's free permits. */
  static int permits(ClientCache<?, ?, ?> cache) {
    return cache.footprint().permitsAvailable();
  }

  private static EntryState state(ClientCache<String, Repo, Client> cache, String key) {
    return cache.snapshot(key).orElseThrow().state();
  }

  @Nested
  class IterativeBulkhead { // item 1
    @Test
    void aBacklogBehindOnePermitIsBuiltWhenBuildsCompleteAtOnce() {
      List<CompletableFuture<Client>> first = new ArrayList<>();
      ClientCache<String, Repo, Client> cache = closing(async((key, spec) -> {
        if (key.equals("first")) {
          CompletableFuture<Client> pending = new CompletableFuture<>();
          first.add(pending);
          return pending;
        }
        if (key.equals("throws")) {
          throw new IllegalStateException("refused at once");
        }
        return CompletableFuture.completedFuture(new Client(key, spec, 1));
      }).maxConcurrentBuilds(1).build());
      cache.upsert("first", V1, 1);
      cache.upsert("throws", V1, 1);
      for (int i = 0; i < 3000; i++) {
        cache.upsert("key-" + i, V1, 1);
      }
      assertThat(state(cache, "key-0")).isEqualTo(EntryState.STALE);

      first.get(0).complete(new Client("first", V1, 1)); // the one permit comes back
      scheduler.runAll(); // its drain: one task, however long the queue

      assertThat(cache.list()).filteredOn(s -> s.key().startsWith("key-"))
          .hasSize(3000).allSatisfy(s -> assertThat(s.state()).isEqualTo(EntryState.CURRENT));
      assertThat(cache.snapshot("throws").orElseThrow().lastError()).hasValueSatisfying(
          e -> assertThat(e).hasMessage("refused at once"));
      assertThat(cache.upsert("brand-new", V1, 1)).as("the permit is still there").isCompleted();
      assertThat(permits(cache)).isEqualTo(1);
    }

    @Test
    void aFactoryFailingAtOnceBehindTheDefaultBulkheadLosesNoPermit() {
      Map<String, AtomicInteger> calls = new HashMap<>();
      List<CompletableFuture<Client>> held = new ArrayList<>();
      ClientCache<String, Repo, Client> cache = closing(async((key, spec) -> {
        calls.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        if (key.startsWith("held-")) {
          CompletableFuture<Client> pending = new CompletableFuture<>();
          held.add(pending);
          return pending;
        }
        throw new IllegalStateException("down");
      }).build());
      for (int i = 0; i < 16; i++) {
        cache.upsert("held-" + i, V1, 1);
      }
      for (int i = 0; i < 3000; i++) {
        cache.upsert("key-" + i, V1, 1);
      }
      assertThat(calls).hasSize(16);

      held.forEach(f -> f.complete(new Client("held", V1, 1)));
      scheduler.runAll(); // the drains of the permits that came back

      assertThat(calls).hasSize(3016);
      assertThat(permits(cache)).isEqualTo(16);
    }
  }

  @Nested
  class IsolatedCallbacks { // items 2 and 5
    @Test
    void aListenerThrowingAnErrorOnceWedgesNothing() {
      AtomicInteger throwsLeft = new AtomicInteger(1);
      Factory factory = new Factory();
      ClientCache<String, Repo, Client> cache = closing(blocking(factory).maxConcurrentBuilds(1)
          .listener(new CacheListener<>() {
            @Override
            public void onBuildStarted(String key, long version) {
              if (throwsLeft.getAndDecrement() > 0) {
                throw new Error("listener bug");
              }
            }
          }).build());

      assertThatCode(() -> cache.upsert("a", V1, 1)).doesNotThrowAnyException();
      cache.upsert("b", V1, 1);
      scheduler.runAll();

      assertThat(state(cache, "a")).isEqualTo(EntryState.CURRENT);
      assertThat(state(cache, "b")).isEqualTo(EntryState.CURRENT);
    }

    @Test
    void aListenerThrowingWhenABuildFinishesLosesNoPermit() {
      Factory factory = new Factory();
      ClientCache<String, Repo, Client> cache = closing(blocking(factory).maxConcurrentBuilds(1)
          .listener(new CacheListener<>() {
            @Override
            public void onBuildFinished(String key, long version, long nanos, Throwable error) {
              throw new StackOverflowError("deep listener");
            }

            @Override
            public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
              throw new Error("transition listener bug");
            }
          }).build());
      cache.upsert("a", V1, 1);
      cache.upsert("b", V1, 1);
      scheduler.runAll();

      assertThat(state(cache, "a")).isEqualTo(EntryState.CURRENT);
      assertThat(state(cache, "b")).isEqualTo(EntryState.CURRENT);
    }

    @Test
    void aFactoryThrowingStackOverflowErrorFailsItsBuildAtOnce() {
      ClientCache<String, Repo, Client> cache = closing(blocking((key, spec) -> {
        throw new StackOverflowError("recursed");
      }).build());
      CompletableFuture<Snapshot<String, Repo, Client>> done = cache.upsert("a", V1, 1);

      assertThatCode(scheduler::runAll).doesNotThrowAnyException();

      assertThatThrownBy(done::join).hasCauseInstanceOf(StackOverflowError.class);
      assertThat(cache.snapshot("a").orElseThrow().lastError()).hasValueSatisfying(
          e -> assertThat(e).isInstanceOf(StackOverflowError.class));
      assertThat(cache.snapshot("a").orElseThrow().nextRetryNanos()).isPresent();
    }

    @Test
    void anAsyncFactoryThrowingAnErrorFailsItsBuild() {
      ClientCache<String, Repo, Client> cache = closing(async((key, spec) -> {
        throw new LinkageError("missing class");
      }).maxConcurrentBuilds(1).build());

      assertThatThrownBy(cache.upsert("a", V1, 1)::join).hasCauseInstanceOf(LinkageError.class);
      assertThat(permits(cache)).isEqualTo(1);
    }

    @Test
    void aCloserThrowingAnErrorStillReleasesTheRest() {
      Factory factory = new Factory();
      ClientCache<String, Repo, Client> cache = blocking(factory).closer(c -> {
        c.close();
        throw new Error("closer bug");
      }).build();
      cache.upsert("a", V1, 1);
      cache.upsert("b", V1, 1);
      scheduler.runAll();

      assertThatCode(cache::close).doesNotThrowAnyException();
      assertThat(factory.built).hasSize(2).allSatisfy(c -> assertThat(c.closes).hasValue(1));
    }

    @Test
    void aSourceWhoseRestartThrowsAnErrorIsRestartedAgain() {
      AtomicInteger starts = new AtomicInteger();
      ManualEventSource<String, Repo> inner = new ManualEventSource<>();
      inner.upsert("redis", V1, 1);
      EventSource<String, Repo> flaky = new EventSource<>() {
        @Override
        public void start(EventSink<String, Repo> sink) {
          if (starts.incrementAndGet() < 3) {
            throw new NoClassDefFoundError("io/etcd/Client");
          }
          inner.start(sink);
        }

        @Override
        public void close() {
          inner.close();
        }
      };
      ClientCache<String, Repo, Client> cache = closing(blocking(new Factory()).source(flaky)
          .backoff(Backoff.fixed(Duration.ofSeconds(1))).build());

      scheduler.advance(Duration.ofSeconds(5));

      assertThat(starts).hasValue(3);
      assertThat(cache.snapshot("redis").orElseThrow().servedSpec()).contains(V1);
    }

    @Test
    void aSpecWhoseEqualsThrowsIsRecordedAgainstItsKey() { // item 7
      ManualEventSource<String, Object> source = new ManualEventSource<>();
      ClientCache<String, Object, String> cache = closing(ClientCache
          .<String, Object, String>builder((key, spec) -> key + "@" + spec)
          .scheduler(scheduler).source(source).build());
      source.upsert("redis", "v1", 1);
      scheduler.runAll();

      source.upsert("redis", new Object() {
        @Override
        public boolean equals(Object other) {
          throw new IllegalStateException("equals is broken");
        }

        @Override
        public int hashCode() {
          return 1;
        }
      }, 2);
      source.upsert("redis", "v3", -3);

      Snapshot<String, Object, String> s = cache.snapshot("redis").orElseThrow();
      assertThat(s.lastError()).hasValueSatisfying(e -> assertThat(e)
          .hasMessageContaining("version of 'redis' must be >= 0, got -3"));
      assertThat(s.servedSpec()).contains("v1");
    }

    @Test
    void aRejectionIsRecordedBeforeTheListenerHearsOfIt() { // item 2
      List<Object> seenByListener = new ArrayList<>();
      AtomicReference<ClientCache<String, Repo, Client>> self = new AtomicReference<>();
      ManualEventSource<String, Repo> source = new ManualEventSource<>();
      ClientCache<String, Repo, Client> cache = closing(blocking(new Factory()).source(source)
          .listener(new CacheListener<>() {
            @Override
            public void onRejected(String key, Exception problem) {
              seenByListener.add(self.get().snapshot(key).orElseThrow().lastError().orElse(null));
            }
          }).build());
      self.set(cache);
      source.upsert("redis", V1, 1);
      IllegalArgumentException bad = new IllegalArgumentException("cannot parse");

      source.reject("redis", bad);

      assertThat(seenByListener).containsExactly(bad);
    }

    @Test
    void aChangePolicyOrDependsOnThatThrowsFailsTheUpsertAndIsRecorded() { // items 2, 7
      ClientCache<String, Repo, Client> cache = closing(blocking(new Factory())
          .changePolicy((a, b) -> {
            throw new Error("policy bug");
          })
          .dependsOn(spec -> {
            if (spec.equals(V3)) {
              throw new IllegalStateException("dependsOn bug");
            }
            return Set.of();
          }).build());
      cache.upsert("redis", V1, 1);
      scheduler.runAll();

      CompletableFuture<Snapshot<String, Repo, Client>> changed = cache.upsert("redis", V2, 2);
      assertThatThrownBy(changed::join).hasMessageContaining("the change policy threw");
      assertThat(cache.snapshot("redis").orElseThrow().lastError()).isPresent();
      assertThatThrownBy(cache.upsert("redis", V3, 3)::join).hasMessageContaining("dependsOn");
      assertThat(state(cache, "redis")).isEqualTo(EntryState.CURRENT);
    }
  }

  @Nested
  class Reentrancy { // item 3
    @Test
    void anAsyncFactoryMayDeleteItsOwnKeyFromInsideBuild() {
      AtomicReference<ClientCache<String, Repo, Client>> self = new AtomicReference<>();
      ClientCache<String, Repo, Client> cache = closing(async((key, spec) -> {
        if (key.equals("a")) {
          self.get().delete(key, 2);
        }
        return CompletableFuture.completedFuture(new Client(key, spec, 1));
      }).maxConcurrentBuilds(1).build());
      self.set(cache);

      CompletableFuture<Snapshot<String, Repo, Client>> done = assertTimeoutPreemptively(HANG_GUARD,
          () -> cache.upsert("a", V1, 1));

      assertThat(done).isCompletedExceptionally();
      assertThat(state(cache, "a")).isEqualTo(EntryState.REMOVED);
      assertThat(cache.upsert("b", V1, 1)).as("the permit came back").isCompleted();
    }

    @Test
    void aKeyReAddedWhileItsRemovedBuildIsBeingLaunchedNeverHasTwoBuildsAtOnce() throws Exception {
      AtomicInteger running = new AtomicInteger();
      AtomicInteger maxRunning = new AtomicInteger();
      List<CompletableFuture<Client>> stages = java.util.Collections.synchronizedList(new ArrayList<>());
      CountDownLatch inFactory = new CountDownLatch(1);
      CountDownLatch reAdded = new CountDownLatch(1);
      ClientCache<String, Repo, Client> cache = closing(ClientCache
          .<String, Repo, Client>asyncBuilder((key, spec) -> {
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            CompletableFuture<Client> stage = new CompletableFuture<>();
            stage.whenComplete((c, e) -> running.decrementAndGet());
            stages.add(stage);
            if (spec.equals(V1)) {
              inFactory.countDown();
              AtomicConcurrency.await(reAdded); // a slow launch on another thread
            }
            return stage;
          }).build());

      dev.statewright.testing.Workers.run(2, worker -> {
        if (worker == 0) {
          cache.upsert("a", V1, 1);
        } else {
          AtomicConcurrency.await(inFactory);
          cache.delete("a", 2);
          cache.upsert("a", V2, 3);
          assertThat(stages).as("the re-add waits for the call in progress").hasSize(1);
          reAdded.countDown();
        }
      });

      assertThat(maxRunning).hasValue(1);
      assertThat(stages).hasSize(2);
      assertThat(stages.get(0)).isCancelled();
    }

    @Test
    void anAsyncFactoryMayCloseTheCacheFromInsideBuild() {
      AtomicReference<ClientCache<String, Repo, Client>> self = new AtomicReference<>();
      List<Client> built = new ArrayList<>();
      ClientCache<String, Repo, Client> cache = async((key, spec) -> {
        self.get().close();
        Client c = new Client(key, spec, 1);
        built.add(c);
        return CompletableFuture.completedFuture(c);
      }).build();
      self.set(cache);

      assertTimeoutPreemptively(HANG_GUARD, () -> cache.upsert("a", V1, 1));

      assertThat(cache.list()).isEmpty();
      assertThat(built).hasSize(1).allSatisfy(c -> assertThat(c.closes).hasValue(1));
    }

    @Test
    void aBlockingFactoryAListenerAndACloserMayCallBackIntoTheCache() {
      AtomicReference<ClientCache<String, Repo, Client>> self = new AtomicReference<>();
      Factory factory = new Factory();
      ClientCache<String, Repo, Client> cache = closing(blocking((key, spec) -> {
        if (key.equals("doomed")) {
          self.get().delete(key, 5);
        }
        return factory.build(key, spec);
      }).closer(c -> {
        c.close();
        self.get().list();
        self.get().upsert("from-closer-" + c.serial, V1, 1);
      }).listener(new CacheListener<>() {
        @Override
        public void onBuildStarted(String key, long version) {
          self.get().snapshot(key);
          if (key.equals("listener-deletes")) {
            self.get().delete(key, 9);
          }
        }
      }).maxConcurrentBuilds(1).build());
      self.set(cache);

      assertTimeoutPreemptively(HANG_GUARD, () -> {
        cache.upsert("doomed", V1, 1);
        cache.upsert("listener-deletes", V1, 1);
        cache.upsert("ok", V1, 1);
        scheduler.runAll();
        cache.upsert("ok", V2, 2);
        scheduler.runAll();
      });

      assertThat(state(cache, "doomed")).isEqualTo(EntryState.REMOVED);
      assertThat(state(cache, "listener-deletes")).isEqualTo(EntryState.REMOVED);
      assertThat(state(cache, "ok")).isEqualTo(EntryState.CURRENT);
      assertThat(cache.snapshot("from-closer-1")).isPresent();
      assertThat(permits(cache)).isEqualTo(1);
    }
  }

  /** Bounded waits for real-thread tests. */
  static final class AtomicConcurrency {
    static void await(CountDownLatch latch) {
      try {
        assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Nested
  class AtomicClose { // item 4
    @Test
    void anUpsertPausedBeforeItsInsertWhileCloseRunsLeavesNothingLive() throws Exception {
      CountDownLatch inserting = new CountDownLatch(1);
      CountDownLatch closedNow = new CountDownLatch(1);
      Factory factory = new Factory();
      ClientCache<String, Repo, Client> cache = ClientCache.builder(factory).dependsOn(spec -> {
        if (spec.equals(V2)) {
          inserting.countDown();
          await(closedNow); // the upsert has passed its closed check and not yet inserted
        }
        return Set.of();
      }).build();

      dev.statewright.testing.Workers.run(2, worker -> {
        if (worker == 0) {
          cache.upsert("racer", V2, 1);
        } else {
          await(inserting);
          cache.close();
          closedNow.countDown();
        }
      });

      assertThat(cache.list()).isEmpty();
      assertThat(CacheCloseStressTest.awaitTrue(() -> factory.inFlight.get() == 0)).isTrue();
      assertThat(factory.built).allSatisfy(c -> assertThat(c.closes).hasValue(1));
    }

    private static void await(CountDownLatch latch) {
      try {
        assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Nested
  class Semantics { // item 8
    @Test
    void strictAcquireFailsAtOnceWhenTheBuildItWaitsForFails() {
      Factory factory = new Factory();
      IOException refused = new IOException("connection refused");
      factory.failure = (key, spec) -> spec.equals(V2) ? refused : null;
      ClientCache<String, Repo, Client> cache = closing(blocking(factory).build());
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      cache.upsert("redis", V2, 2);

      CompletableFuture<ClientLease<Client>> waiting = cache.acquireAsync("redis");
      scheduler.runAll();

      assertThat(waiting).isCompletedExceptionally();
      assertThatThrownBy(waiting::join).hasCauseInstanceOf(ClientUnavailableException.class)
          .hasRootCause(refused);
    }

    @Test
    void waitersOfANewerVersionKeepWaitingWhenAnOlderBuildFails() {
      Factory factory = new Factory();
      factory.failure = (key, spec) -> spec.equals(V2) ? new IOException("bad v2") : null;
      ClientCache<String, Repo, Client> cache = closing(blocking(factory).build());
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      cache.upsert("redis", V2, 2); // its build starts
      CompletableFuture<ClientLease<Client>> forV2 = cache.acquireAsync("redis");
      cache.upsert("redis", V3, 3);
      CompletableFuture<ClientLease<Client>> forV3 = cache.acquireAsync("redis");
      CompletableFuture<ClientLease<Client>> versioned = cache.acquireAsync("redis", 2);

      scheduler.runAll();

      assertThat(forV2).isCompletedExceptionally();
      assertThat(forV3.join().get().builtFrom).isEqualTo(V3);
      assertThat(versioned.join().get().builtFrom).isEqualTo(V3);
    }

    @Test
    void aNewSpecSupersedesABuildThatRanLongEnough() {
      List<CompletableFuture<Client>> pending = new ArrayList<>();
      List<String> events = new ArrayList<>();
      ClientCache<String, Repo, Client> cache = closing(async((key, spec) -> {
        CompletableFuture<Client> f = new CompletableFuture<>();
        pending.add(f);
        return f;
      }).supersede(Duration.ofSeconds(5)).maxConcurrentBuilds(1)
          .listener(new CacheListener<>() {
            @Override
            public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
              events.add(t.toString());
            }
          }).build());
      CompletableFuture<Snapshot<String, Repo, Client>> first = cache.upsert("redis", V1, 1);
      scheduler.advance(Duration.ofSeconds(4));
      cache.upsert("redis", V2, 2);
      assertThat(pending).as("4 s is not long enough").hasSize(1);

      scheduler.advance(Duration.ofSeconds(1));
      CompletableFuture<Snapshot<String, Repo, Client>> fixed = cache.upsert("redis", V3, 3);

      assertThat(pending).hasSize(2);
      assertThat(pending.get(0)).isCancelled();
      assertThat(events).contains("REBUILDING --BUILD_ABANDONED--> STALE");
      pending.get(1).complete(new Client("redis", V3, 3));
      assertThat(fixed.join().servedSpec()).contains(V3);
      assertThat(first.join().servedSpec()).as("an older upsert is answered by a newer client")
          .contains(V3);
    }

    @Test
    void withoutSupersedeANewSpecWaitsForTheBuildInFlight() {
      List<CompletableFuture<Client>> pending = new ArrayList<>();
      ClientCache<String, Repo, Client> cache = closing(async((key, spec) -> {
        CompletableFuture<Client> f = new CompletableFuture<>();
        pending.add(f);
        return f;
      }).build());
      cache.upsert("redis", V1, 1);
      scheduler.advance(Duration.ofSeconds(60));
      cache.upsert("redis", V2, 2);

      assertThat(pending).hasSize(1);
      assertThat(pending.get(0)).isNotDone();
    }

    @Test
    void aSameVersionUpsertWithADifferentSpecFailsAndIsRecorded() {
      ClientCache<String, Repo, Client> cache = closing(blocking(new Factory()).build());
      cache.upsert("redis", V1, 4);
      scheduler.runAll();

      CompletableFuture<Snapshot<String, Repo, Client>> conflict = cache.upsert("redis", V2, 4);

      assertThatThrownBy(conflict::join).hasCauseInstanceOf(StaleVersionException.class)
          .hasMessageContaining("upsert of 'redis' at version 4 conflicts with the different spec");
      Snapshot<String, Repo, Client> s = cache.snapshot("redis").orElseThrow();
      assertThat(s.lastError()).hasValueSatisfying(
          e -> assertThat(e).isInstanceOf(StaleVersionException.class));
      assertThat(s.servedSpec()).contains(V1);
      assertThat(cache.upsert("redis", V1, 4)).as("the same spec again is a duplicate").isCompleted();
    }
  }

  @Nested
  class DependencyIndex { // item 6
    @Test
    void deletedAndPurgedKeysLeaveTheIndex() throws Exception {
      ClientCache<String, Repo, Client> cache = closing(blocking(new Factory())
          .tombstoneRetention(Duration.ofMinutes(1))
          .dependsOn(repo -> repo.tokenRef() == null ? Set.of() : Set.of(repo.tokenRef())).build());
      for (int i = 0; i < 100; i++) {
        cache.upsert("k" + i, new Repo("https://x.example", "secret/" + i, ""), 1);
      }
      cache.upsert("kept", new Repo("https://x.example", "secret/kept", ""), 1);
      cache.upsert("moved", new Repo("https://x.example", "secret/old", ""), 1);
      scheduler.runAll();
      assertThat(indexSize(cache)).isEqualTo(102);

      for (int i = 0; i < 100; i++) {
        cache.delete("k" + i, 2);
      }
      cache.upsert("moved", new Repo("https://x.example", "secret/new", ""), 2);
      scheduler.advance(Duration.ofMinutes(2));

      assertThat(indexSize(cache)).isEqualTo(2);
      assertThat(cache.dependencyChanged("secret/kept")).isNotDone();
      scheduler.runAll();
      assertThat(cache.dependencyChanged("secret/old")).isCompleted();
    }

    private int indexSize(ClientCache<?, ?, ?> cache) {
      return cache.indexedDependencies();
    }
  }

  @Nested
  class FormerlyUntested { // item 10: each test kills a mutant that used to survive
    private final Factory factory = new Factory();

    private ClientCache<String, Repo, Client> cache(ClientCacheBuilder<String, Repo, Client> b) {
      return closing(b.build());
    }

    @Test
    void strictFreshnessNeverHandsOutAClientOlderThanTheKnownSpec() {
      ClientCache<String, Repo, Client> cache = cache(blocking(factory));
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      cache.upsert("redis", V2, 2);

      CompletableFuture<ClientLease<Client>> fresh = cache.acquireAsync("redis");

      assertThat(fresh).as("V1 is stale under strict()").isNotDone();
      scheduler.runAll();
      assertThat(fresh.join().get().builtFrom).isEqualTo(V2);
    }

    @Test
    void boundedStalenessServesTheOldClientOnlyWithinItsBound() {
      List<CompletableFuture<Client>> pending = new ArrayList<>();
      ClientCache<String, Repo, Client> cache = cache(async((key, spec) -> {
        CompletableFuture<Client> f = new CompletableFuture<>();
        pending.add(f);
        return f;
      }).freshness(Freshness.boundedStaleness(Duration.ofSeconds(10))));
      cache.upsert("redis", V1, 1);
      pending.get(0).complete(new Client("redis", V1, 1));
      cache.upsert("redis", V2, 2); // its build hangs
      scheduler.advance(Duration.ofSeconds(9));

      assertThat(cache.acquireAsync("redis").join().get().builtFrom).isEqualTo(V1);
      scheduler.advance(Duration.ofSeconds(1));
      assertThat(cache.acquireAsync("redis")).as("stale for exactly the bound").isNotDone();
    }

    @Test
    void rebuildWhenChangedRebuildsOnAChosenFieldOnly() {
      ChangePolicy<Repo> policy = ChangePolicy.rebuildWhenChanged(Repo::url);
      assertThat(policy.classify(V1, V2)).isEqualTo(Change.REBUILD);
      assertThat(policy.classify(V1, V1.withDescription("x"))).isEqualTo(Change.METADATA);
      assertThat(policy.classify(V1, new Repo(V1.url()))).isEqualTo(Change.NONE);
      assertThatThrownBy(() -> ChangePolicy.<Repo>rebuildWhenChanged())
          .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anEqualSpecAtAHigherVersionServesTheNewVersionWithoutARebuild() {
      ClientCache<String, Repo, Client> cache = cache(blocking(factory));
      cache.upsert("redis", V1, 1);
      scheduler.runAll();

      CompletableFuture<Snapshot<String, Repo, Client>> same = cache.upsert("redis", V1, 2);

      assertThat(same).isCompleted();
      assertThat(same.join().servedVersion()).hasValue(2);
      assertThat(factory.calls("redis")).isEqualTo(1);
    }

    @Test
    void aTombstonePurgeNeverRemovesTheLiveKeyThatReplacedIt() {
      ClientCache<String, Repo, Client> cache = cache(blocking(factory)
          .tombstoneRetention(Duration.ofMinutes(1)));
      cache.upsert("redis", V1, 1);
      scheduler.runAll();
      cache.delete("redis", 2);
      cache.upsert("redis", V2, 3);
      scheduler.advance(Duration.ofMinutes(2));

      assertThat(state(cache, "redis")).isEqualTo(EntryState.CURRENT);
    }

    @Test
    void dependentsRebuildWhenAKeyTheyDependOnIsAddedOrDeleted() {
      ClientCache<String, Repo, Client> cache = cache(blocking(factory)
          .dependsOn(repo -> repo.tokenRef() == null ? Set.of() : Set.of(repo.tokenRef())));
      cache.upsert("app", new Repo("https://app.example", "token-store", ""), 1);
      scheduler.runAll();

      cache.upsert("token-store", V1, 1);
      scheduler.runAll();
      assertThat(factory.calls("app")).as("added").isEqualTo(2);

      cache.delete("token-store", 2);
      scheduler.runAll();
      assertThat(factory.calls("app")).as("deleted").isEqualTo(3);
    }

    @Test
    void aSpecThatChangesItsDependenciesFollowsTheNewOnesOnly() {
      ClientCache<String, Repo, Client> cache = cache(blocking(factory)
          .changePolicy(ChangePolicy.rebuildWhenChanged(Repo::url))
          .dependsOn(repo -> repo.tokenRef() == null ? Set.of() : Set.of(repo.tokenRef())));
      cache.upsert("app", new Repo("https://app.example", "secret/a", ""), 1);
      scheduler.runAll();
      cache.upsert("app", new Repo("https://app.example", "secret/b", ""), 2); // metadata only
      scheduler.runAll();

      assertThat(cache.dependencyChanged("secret/a")).isCompleted();
      assertThat(factory.calls("app")).isEqualTo(1);
      CompletableFuture<Void> rebuilt = cache.dependencyChanged("secret/b");
      scheduler.runAll();
      assertThat(rebuilt).isCompleted();
      assertThat(factory.calls("app")).isEqualTo(2);
    }

    @Test
    void aBuildFailingAfterANewerSpecArrivedBuildsTheNewerOneAtOnce() {
      factory.failure = (key, spec) -> spec.equals(V1) ? new IOException("bad v1") : null;
      ClientCache<String, Repo, Client> cache = cache(blocking(factory));
      cache.upsert("redis", V1, 1);
      CompletableFuture<Snapshot<String, Repo, Client>> fixed = cache.upsert("redis", V2, 2);

      scheduler.runAll(); // no time passes: no backoff may stand between V1's failure and V2

      assertThat(fixed).isCompleted();
      assertThat(fixed.join().servedSpec()).contains(V2);
    }

    @Test
    void abandonedBuildsGiveTheirPermitBackExactlyOnce() {
      List<CompletableFuture<Client>> pending = new ArrayList<>();
      ClientCache<String, Repo, Client> cache = cache(async((key, spec) -> {
        CompletableFuture<Client> f = new CompletableFuture<>();
        pending.add(f);
        return f;
      }).maxConcurrentBuilds(2).buildTimeout(Duration.ofSeconds(10)));
      cache.upsert("a", V1, 1);
      cache.upsert("b", V1, 1);
      scheduler.advance(Duration.ofSeconds(11)); // both time out and are cancelled
      cache.delete("a", 2);
      cache.delete("b", 2);
      pending.forEach(f -> f.complete(new Client("late", V1, 0)));

      assertThat(permits(cache)).isEqualTo(2);
      assertThat(pending).allSatisfy(f -> assertThat(f).isCancelled());
    }

    @Test
    void aBlockingBuildAbandonedBeforeItStartedNeverCallsTheFactory() {
      ClientCache<String, Repo, Client> cache = cache(blocking(factory).maxConcurrentBuilds(1));
      cache.upsert("redis", V1, 1); // its worker task is queued, not run
      cache.delete("redis", 2);
      cache.upsert("next", V1, 1);

      scheduler.runAll();

      assertThat(factory.calls("redis")).isZero();
      assertThat(state(cache, "next")).isEqualTo(EntryState.CURRENT);
      assertThat(permits(cache)).isEqualTo(1);
    }

    @Test
    void aSecondSourceDeliversUnderItsOwnOriginAndTheApiResyncCoversAll() {
      ManualEventSource<String, Repo> first = new ManualEventSource<>();
      ManualEventSource<String, Repo> second = new ManualEventSource<>();
      ClientCache<String, Repo, Client> cache = cache(blocking(factory).source(first).source(second));
      first.upsert("one", V1, 1);
      second.upsert("two", V1, 1);
      cache.upsert("api", V1, 1);
      scheduler.runAll();

      second.resync(Map.of());
      assertThat(state(cache, "two")).isEqualTo(EntryState.REMOVED);
      assertThat(state(cache, "one")).isEqualTo(EntryState.CURRENT);
      assertThat(state(cache, "api")).isEqualTo(EntryState.CURRENT);

      cache.resync(Map.of());
      assertThat(state(cache, "one")).isEqualTo(EntryState.REMOVED);
      assertThat(state(cache, "api")).isEqualTo(EntryState.REMOVED);
    }
  }

  @Nested
  class NullArguments { // issue 16
    @Test
    void everyPublicMethodNamesTheNullArgument() {
      ClientCache<String, Repo, Client> cache = closing(blocking(new Factory()).build());
      Map<String, Versioned<Repo>> nullKey = new HashMap<>();
      nullKey.put(null, Versioned.of(V1, 1));
      Map<String, Versioned<Repo>> nullValue = new HashMap<>();
      nullValue.put("redis", null);

      assertThatThrownBy(() -> cache.snapshot(null)).isInstanceOf(NullPointerException.class)
          .hasMessage("key");
      assertThatThrownBy(() -> cache.acquireAsync(null)).isInstanceOf(NullPointerException.class)
          .hasMessage("key");
      assertThatThrownBy(() -> cache.acquireAsync(null, 1)).isInstanceOf(NullPointerException.class)
          .hasMessage("key");
      assertThatThrownBy(() -> cache.acquire(null)).hasMessage("key");
      assertThatThrownBy(() -> cache.delete(null, 1)).hasMessage("key");
      assertThatThrownBy(() -> cache.resync(null)).isInstanceOf(NullPointerException.class)
          .hasMessage("all");
      assertThatThrownBy(() -> cache.resync(null, 3)).hasMessage("all");
      assertThatThrownBy(() -> cache.resync(nullKey)).isInstanceOf(NullPointerException.class)
          .hasMessage("a key of all");
      assertThatThrownBy(() -> cache.resync(nullValue)).isInstanceOf(NullPointerException.class)
          .hasMessage("the value of 'redis' in all");
      assertThatThrownBy(() -> cache.dependencyChanged(null)).hasMessage("dependency");
      assertThatThrownBy(() -> ClientCache.builder(new Factory()).name(null))
          .isInstanceOf(NullPointerException.class).hasMessage("name");
      assertThatThrownBy(() -> ClientCache.builder(new Factory()).supersede(null))
          .isInstanceOf(NullPointerException.class).hasMessage("supersede");
    }
  }
}
