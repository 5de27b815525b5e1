package dev.statewright.cache;

import static dev.statewright.cache.CacheLivenessTest.permits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.lease.Lease;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import dev.statewright.testing.ForwardingScheduler;
import dev.statewright.testing.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Boundaries and small contracts of the cache, each pinned by one assertion that can fail. */
class ClientCacheEdgesTest {
  private static final Repo V1 = new Repo("https://charts.example/v1");
  private static final Repo V2 = new Repo("https://charts.example/v2");
  private static final Repo V3 = new Repo("https://charts.example/v3");

  private final ManualScheduler scheduler = new ManualScheduler();
  private final Factory factory = new Factory();
  private final List<CompletableFuture<Client>> pending = new ArrayList<>();
  private ClientCache<String, Repo, Client> cache;

  @AfterEach
  void close() {
    if (cache != null) {
      cache.close();
    }
  }

  private ClientCacheBuilder<String, Repo, Client> blocking() {
    return ClientCache.builder(factory).scheduler(scheduler)
        .backoff(Backoff.fixed(Duration.ofMinutes(1)));
  }

  private ClientCacheBuilder<String, Repo, Client> hanging() {
    return ClientCache.<String, Repo, Client>asyncBuilder((key, spec) -> {
      CompletableFuture<Client> f = new CompletableFuture<>();
      pending.add(f);
      return f;
    }).scheduler(scheduler).backoff(Backoff.fixed(Duration.ofMinutes(1)));
  }

  private Snapshot<String, Repo, Client> snapshot(String key) {
    return cache.snapshot(key).orElseThrow();
  }

  @Test
  void boundedStalenessCountsFromWhenTheEntryFirstWentStale() {
    cache = hanging().freshness(Freshness.boundedStaleness(Duration.ofSeconds(10))).build();
    cache.upsert("redis", V1, 1);
    pending.get(0).complete(new Client("redis", V1, 1));
    scheduler.advance(Duration.ofSeconds(30)); // current for a long time: not stale
    cache.upsert("redis", V2, 2);
    assertThat(cache.acquireAsync("redis")).as("stale for 0 s").isCompleted();
    scheduler.advance(Duration.ofSeconds(8));
    cache.upsert("redis", V3, 3); // still stale since V2 arrived
    scheduler.advance(Duration.ofSeconds(3));

    assertThat(cache.acquireAsync("redis")).as("stale for 11 s").isNotDone();
  }

  @Test
  void aResyncAsOfAVersionDeletesAnAbsentKeyAtExactlyThatVersion() {
    cache = blocking().build();
    cache.upsert("k", V1, 5);
    cache.resync(Map.of(), 5);
    assertThat(snapshot("k").state()).isEqualTo(EntryState.REMOVED);
  }

  @Test
  void aDeleteAtTheCurrentVersionIsRefused() {
    cache = blocking().build();
    cache.upsert("k", V1, 5);
    assertThatThrownBy(() -> cache.delete("k", 5).join())
        .hasCauseInstanceOf(StaleVersionException.class);
    assertThat(snapshot("k").state()).isNotEqualTo(EntryState.REMOVED);
    assertThat(cache.delete("k", 6)).isCompleted();
    assertThat(cache.delete("k", 6)).as("a duplicate delete of a tombstone").isCompleted();
  }

  /**
   * A permit given back hands the drain of queued builds to the scheduler; a scheduler that
   * refuses it (a user's, shut down or bounded) has the drain run on the releasing thread instead,
   * so the queued build still starts.
   */
  @Test
  void aSchedulerThatRefusesTheDrainHasItRunWhereThePermitCameBack() {
    ForwardingScheduler refusing = new ForwardingScheduler(scheduler) {
      @Override
      public void execute(Runnable task) {
        throw new RejectedExecutionException("shut down");
      }
    };
    cache = ClientCache.<String, Repo, Client>asyncBuilder((key, spec) -> {
      CompletableFuture<Client> f = new CompletableFuture<>();
      pending.add(f);
      return f;
    }).scheduler(refusing).maxConcurrentBuilds(1).build();
    cache.upsert("holder", V1, 1);
    cache.upsert("queued", V1, 1);
    assertThat(pending).hasSize(1);

    pending.get(0).complete(new Client("holder", V1, 1));

    assertThat(pending).as("the queued build started").hasSize(2);
    assertThat(snapshot("queued").state()).isEqualTo(EntryState.REBUILDING);
  }

  @Test
  void aQueuedEntryDeletedBeforeItsTurnGivesThePermitOnward() {
    cache = hanging().maxConcurrentBuilds(1).build();
    cache.upsert("holder", V1, 1);
    cache.upsert("gone", V1, 1); // queued behind holder
    cache.upsert("next", V1, 1);
    cache.delete("gone", 2);

    pending.get(0).complete(new Client("holder", V1, 1));
    scheduler.runAll(); // the permit's drain

    assertThat(pending).hasSize(2);
    assertThat(snapshot("next").state()).isEqualTo(EntryState.REBUILDING);
    pending.get(1).complete(new Client("next", V1, 1));
    assertThat(permits(cache)).isEqualTo(1);
  }

  @Test
  void aFailedDependencyRebuildFailsTheDependencyChangeFuture() {
    IOException refused = new IOException("secret unreadable");
    factory.failure = (key, spec) -> factory.calls(key) > 1 ? refused : null;
    cache = blocking().dependsOn(r -> r.tokenRef() == null ? Set.of() : Set.of(r.tokenRef())).build();
    cache.upsert("a", new Repo("https://a.example", "secret/a", ""), 1);
    scheduler.runAll();

    CompletableFuture<Void> rebuilt = cache.dependencyChanged("secret/a");
    scheduler.runAll();

    assertThatThrownBy(rebuilt::join).hasRootCause(refused);
  }

  @Test
  void theListenerHearsHowLongABuildTook() {
    AtomicLong took = new AtomicLong(-1);
    cache = hanging().listener(new CacheListener<>() {
      @Override
      public void onBuildFinished(String key, long version, long nanos, Throwable error) {
        took.set(nanos);
      }
    }).build();
    cache.upsert("redis", V1, 1);
    scheduler.advance(Duration.ofSeconds(3));
    pending.get(0).complete(new Client("redis", V1, 1));

    assertThat(took).hasValue(Duration.ofSeconds(3).toNanos());
  }

  @Test
  void anUnavailableClientSaysWhatWasServedAndTheLastError() {
    factory.failure = (key, spec) -> spec.equals(V2) ? new IOException("refused") : null;
    cache = blocking().acquireTimeout(Duration.ofSeconds(5)).build();
    cache.upsert("redis", V1, 1);
    scheduler.runAll();
    cache.upsert("redis", V2, 2);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> waiting = cache.acquireAsync("redis", 2);
    scheduler.advance(Duration.ofSeconds(6));

    assertThatThrownBy(waiting::join).hasMessageContaining("serving version 1")
        .hasMessageContaining("last error: java.io.IOException: refused");
    factory.failure = (key, spec) -> new IOException("down");
    cache.upsert("never", V1, 1);
    CompletableFuture<ClientLease<Client>> nothing = cache.acquireAsync("never", 1);
    scheduler.advance(Duration.ofSeconds(6));
    assertThatThrownBy(nothing::join).hasMessageContaining("nothing served");
  }

  @Test
  void aSourceIsRestartedWithAGrowingAttemptCount() {
    List<Integer> attempts = new ArrayList<>();
    cache = blocking().backoff((failures, random) -> {
      attempts.add(failures);
      return Duration.ofSeconds(1);
    }).source(new EventSource<>() {
      @Override
      public void start(EventSink<String, Repo> sink) {
        if (attempts.size() < 3) {
          throw new IllegalStateException("not yet");
        }
      }

      @Override
      public void close() { }
    }).build();
    scheduler.advance(Duration.ofSeconds(5));

    assertThat(attempts).containsExactly(1, 2, 3);
  }

  @Test
  void snapshotsAreEqualExactlyWhenEveryFieldIs() {
    IOException e = new IOException("x");
    Snapshot<String, String, String> s = new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "a", e, 7, 0, 4, 0, 0);
    assertThat(s).isEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "a", e, 7, 0, 4, 0, 0))
        .hasSameHashCodeAs(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "a", e, 7, 0, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("j", EntryState.CURRENT, 2, "b", 1, "a", e, 7, 0, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.STALE, 2, "b", 1, "a", e, 7, 0, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 3, "b", 1, "a", e, 7, 0, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "c", 1, "a", e, 7, 0, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 0, "a", e, 7, 0, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "z", e, 7, 0, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "a", null, 7, 0, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "a", e, 8, 0, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "a", e, 7, 1, 4, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "a", e, 7, 0, 5, 0, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "a", e, 7, 0, 4, 1, 0))
        .isNotEqualTo(new Snapshot<>("k", EntryState.CURRENT, 2, "b", 1, "a", e, 7, 0, 4, 0, 1))
        .isNotEqualTo("k");
    assertThat(s.hashCode()).isNotZero();
    assertThat(s.abandonedBuildsRunning()).isZero();
    assertThat(s.nextRetryNanos()).hasValue(7);
    assertThat(s.generation()).isEqualTo(4);
  }

  @Test
  void freshnessDescribesItself() {
    assertThat(Freshness.strict()).hasToString("Freshness.strict()");
    assertThat(Freshness.strict().bound()).isEqualTo(Duration.ZERO);
    assertThat(Freshness.boundedStaleness(Duration.ofSeconds(3)))
        .hasToString("Freshness.boundedStaleness(PT3S)");
    assertThat(Freshness.boundedStaleness(Duration.ofSeconds(3)).bound()).hasSeconds(3);
    assertThat(Freshness.boundedStaleness(Duration.ZERO)).isSameAs(Freshness.strict());
  }

  @Test
  void exponentialBackoffDoublesWithinItsJitterAndStopsAtTheCap() {
    Backoff backoff = Backoff.exponential(Duration.ofSeconds(1), Duration.ofNanos(8_000_000_007L));
    RandomGenerator lowest = new Fixed(false);
    RandomGenerator highest = new Fixed(true);

    assertThat(backoff.delay(1, lowest)).isEqualTo(Duration.ofMillis(500));
    assertThat(backoff.delay(1, highest)).isEqualTo(Duration.ofSeconds(1));
    assertThat(backoff.delay(2, highest)).isEqualTo(Duration.ofSeconds(2));
    assertThat(backoff.delay(4, highest)).isEqualTo(Duration.ofSeconds(8));
    assertThat(backoff.delay(5, highest)).isEqualTo(Duration.ofNanos(8_000_000_007L));
    assertThat(Backoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(2)).delay(3, highest))
        .as("initial == max is allowed").isEqualTo(Duration.ofSeconds(2));
    assertThatThrownBy(() -> Backoff.exponential(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aKeyReAddedWhileItsDeleteIsBeingAppliedStaysInTheDependencyIndex() {
    java.util.concurrent.atomic.AtomicReference<ClientCache<String, Repo, Client>> self =
        new java.util.concurrent.atomic.AtomicReference<>();
    Repo withToken = new Repo("https://a.example", "secret/a", "");
    cache = blocking().dependsOn(r -> r.tokenRef() == null ? Set.of() : Set.of(r.tokenRef()))
        .listener(new CacheListener<>() {
          @Override
          public void onTransition(String key, dev.statewright.lifecycle.Transition<EntryState,
              EntryEvent> t) {
            if (t.event() == EntryEvent.DELETED && key.equals("a")) {
              self.get().upsert("a", withToken, 3); // re-added before the delete unindexes it
            }
          }
        }).build();
    self.set(cache);
    cache.upsert("a", withToken, 1);
    scheduler.runAll();
    cache.delete("a", 2);
    scheduler.runAll();
    int before = factory.calls("a");

    CompletableFuture<Void> rebuilt = cache.dependencyChanged("secret/a");
    scheduler.runAll();

    assertThat(rebuilt).isCompleted();
    assertThat(factory.calls("a")).isEqualTo(before + 1);
  }

  @Test
  void aNewKeyWhoseDependsOnThrowsIsRefusedAndNotAdded() {
    cache = blocking().dependsOn(r -> {
      throw new IllegalStateException("cannot read " + r.url());
    }).build();

    assertThatThrownBy(cache.upsert("new", V1, 1)::join)
        .hasCauseInstanceOf(IllegalArgumentException.class).hasMessageContaining("dependsOn");
    assertThat(cache.snapshot("new")).isEmpty();
  }

  @Test
  void aSchedulerThatRejectsTheRetryLosesNoPermit() {
    java.util.concurrent.atomic.AtomicBoolean reject = new java.util.concurrent.atomic.AtomicBoolean();
    factory.failure = (key, spec) -> new IOException("down");
    cache = ClientCache.builder(factory).maxConcurrentBuilds(1)
        .backoff(Backoff.fixed(Duration.ofMinutes(1)))
        .scheduler(new dev.statewright.time.Scheduler() {
          @Override
          public long nanoTime() {
            return scheduler.nanoTime();
          }

          @Override
          public java.time.Instant now() {
            return scheduler.now();
          }

          @Override
          public RandomGenerator random() {
            return scheduler.random();
          }

          @Override
          public void execute(Runnable task) {
            scheduler.execute(task);
          }

          @Override
          public Cancellable schedule(Runnable task, Duration delay) {
            if (reject.get()) {
              throw new java.util.concurrent.RejectedExecutionException("shut down");
            }
            return scheduler.schedule(task, delay);
          }
        }).buildTimeout(Duration.ZERO).build();
    cache.upsert("a", V1, 1);
    reject.set(true); // the retry of the failed build cannot be scheduled
    scheduler.runAll();
    reject.set(false);

    assertThat(permits(cache)).isEqualTo(1);
    assertThat(snapshot("a").state()).isEqualTo(EntryState.STALE);
  }

  @Test
  void aSourceGivingNullsIsRecordedAndNeverThrownAt() {
    java.util.concurrent.atomic.AtomicReference<EventSink<String, Repo>> sink =
        new java.util.concurrent.atomic.AtomicReference<>();
    cache = blocking().source(new EventSource<>() {
      @Override
      public void start(EventSink<String, Repo> s) {
        sink.set(s);
      }

      @Override
      public void close() { }
    }).build();
    sink.get().upsert("a", V1, 1);
    scheduler.runAll();

    sink.get().resync(null);
    sink.get().resync(null, 3);
    sink.get().dependencyChanged(null);
    sink.get().delete(null, 4);
    sink.get().reject("a", null);

    assertThat(snapshot("a").lastError()).hasValueSatisfying(
        e -> assertThat(e).isInstanceOf(NullPointerException.class).hasMessage("problem"));
    assertThat(snapshot("a").state()).isEqualTo(EntryState.CURRENT);
  }

  /** Draws the lowest or the highest value of every range. */
  private record Fixed(boolean high) implements RandomGenerator {
    @Override
    public long nextLong() {
      return 0;
    }

    @Override
    public long nextLong(long bound) {
      return high ? bound - 1 : 0;
    }
  }
}
