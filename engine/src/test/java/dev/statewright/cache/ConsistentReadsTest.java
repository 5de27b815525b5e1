package dev.statewright.cache;

import static dev.statewright.cache.TestClients.versionOf;
import static dev.statewright.cache.TestClients.versioned;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.ManualEventSource;
import dev.statewright.event.Versioned;
import dev.statewright.lease.Lease;
import dev.statewright.testing.ManualScheduler;
import java.time.Duration;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code acquireAsOf} and {@code acquireConsistent}: reads wait for the owning source's progress,
 * then for a client of the spec the key wants at that moment; on a scheduler that runs nothing
 * until told to. Store versions here are global, as etcd revisions are: each event carries the
 * store version of its write.
 */
class ConsistentReadsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final ManualScheduler scheduler = new ManualScheduler();
  private final Factory factory = new Factory();
  private ManualEventSource<String, Repo> store = new ManualEventSource<>();
  private ClientCache<String, Repo, Client> cache = builder().source(store).build();

  private ClientCache.Builder<String, Repo, Client> builder() {
    return ClientCache.builder(factory).name("replica").scheduler(scheduler)
        .acquireTimeout(TIMEOUT);
  }

  @AfterEach
  void closeCache() {
    cache.close();
  }

  @Test
  void aReadAsOfAVersionWaitsForTheSourceToReachIt() {
    store.upsert("redis", versioned(3), 3);
    store.progress(3);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("redis", 7);
    store.upsert("redis", versioned(7), 7);
    scheduler.runAll();
    assertThat(read).as("the client of version 7 is built, but the source has not said it"
        + " delivered everything up to 7").isNotDone();

    store.progress(7);
    scheduler.runAll();
    assertThat(servedVersion(read)).isEqualTo(7);
  }

  @Test
  void progressPastTheKeysVersionAnswersWithTheSpecTheKeyHasThen() {
    store.upsert("redis", versioned(3), 3);
    store.upsert("other", versioned(5), 5);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("redis", 5);
    store.progress(5); // version 5 changed another key: redis as of 5 is its version 3
    scheduler.runAll();

    assertThat(servedVersion(read)).isEqualTo(3);
  }

  @Test
  void aReadWaitsStrictlyForTheClientOfTheSpecWantedWhenProgressArrived() {
    store.upsert("redis", versioned(3), 3);
    store.progress(3);
    scheduler.runAll();
    store.upsert("redis", versioned(4), 4);
    store.progress(4);

    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("redis", 4);
    assertThat(read).as("version 3's client is served, version 4's not built yet").isNotDone();

    scheduler.runAll();
    assertThat(servedVersion(read)).isEqualTo(4);
  }

  @Test
  void aKeyThatDidNotExistAsOfTheVersionFailsWithNoSuchElement() {
    store.upsert("redis", versioned(3), 3);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("postgres", 6);
    assertThat(read).as("postgres might arrive up to version 6").isNotDone();
    store.progress(6);
    scheduler.runAll();

    assertThat(failure(read)).isInstanceOf(NoSuchElementException.class).hasMessageContaining(
        "postgres");
  }

  @Test
  void aKeyCreatedBeforeTheVersionIsFoundOnceTheSourceGetsThere() {
    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("postgres", 6);
    store.upsert("postgres", versioned(5), 5);
    store.progress(6);
    scheduler.runAll();

    assertThat(servedVersion(read)).isEqualTo(5);
  }

  @Test
  void aKeyDeletedBeforeTheVersionFailsWithNoSuchElementNamingTheDelete() {
    store.upsert("redis", versioned(3), 3);
    store.progress(3);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("redis", 8);
    store.delete("redis", 8);
    store.progress(8);
    scheduler.runAll();

    assertThat(failure(read)).isInstanceOf(NoSuchElementException.class)
        .hasMessageContaining("redis").hasMessageContaining("version 8");
  }

  @Test
  void aResyncAsOfAVersionDeletesWhatItLacksBeforeTheReadAnswers() {
    store.upsert("redis", versioned(3), 3);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("redis", 9);
    store.resync(Map.of("other", Versioned.of(versioned(9), 9)), 9); // a relist after compaction
    store.progress(9);
    scheduler.runAll();

    assertThat(failure(read)).isInstanceOf(NoSuchElementException.class);
  }

  @Test
  void aReadThatTheSourceNeverCatchesUpWithTimesOutSayingHowFarItGot() {
    store.upsert("redis", versioned(3), 3);
    store.progress(3);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("redis", 10);
    scheduler.advance(TIMEOUT.minusMillis(1));
    assertThat(read).isNotDone();
    scheduler.advance(Duration.ofMillis(1));

    assertThat(failure(read)).isInstanceOf(ClientUnavailableException.class)
        .hasMessageContaining("'redis' as of version 10")
        .hasMessageContaining("has reached version 3");
  }

  @Test
  void aTimedOutReadWithdrawsItsWaitAndALateProgressChangesNothing() {
    store.upsert("redis", versioned(3), 3);
    scheduler.runAll();
    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("redis", 10);
    scheduler.advance(TIMEOUT);

    store.progress(10);
    scheduler.runAll();

    assertThat(failure(read)).isInstanceOf(ClientUnavailableException.class);
    assertThat(cache.acquireAsOf("redis", 10)).as("a new read is answered at once").isDone();
  }

  @Test
  void eachSourcesProgressCoversOnlyTheKeysItDelivers() {
    ManualEventSource<String, Repo> other = new ManualEventSource<>();
    cache.close();
    store = new ManualEventSource<>();
    cache = builder().source(store).source(other).build();
    store.upsert("redis", versioned(3), 3);
    other.upsert("postgres", versioned(40), 40);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> redis = cache.acquireAsOf("redis", 5);
    CompletableFuture<ClientLease<Client>> postgres = cache.acquireAsOf("postgres", 50);
    other.progress(50);
    scheduler.runAll();
    assertThat(redis).as("the other source's progress says nothing about redis").isNotDone();
    assertThat(servedVersion(postgres)).isEqualTo(40);

    store.progress(5);
    scheduler.runAll();
    assertThat(servedVersion(redis)).isEqualTo(3);
  }

  @Test
  void aKeyWithNoEntryWaitsForEverySource() {
    ManualEventSource<String, Repo> other = new ManualEventSource<>();
    cache.close();
    store = new ManualEventSource<>();
    cache = builder().source(store).source(other).build();

    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("mysql", 5);
    store.progress(5);
    scheduler.runAll();
    assertThat(read).as("the other source may still deliver mysql").isNotDone();

    other.upsert("mysql", versioned(4), 4);
    other.progress(5);
    scheduler.runAll();
    assertThat(servedVersion(read)).isEqualTo(4);
  }

  @Test
  void aKeyFromASourceThatReportsNoProgressFailsAtOnceSayingSo() {
    ManualEventSource<String, Repo> inner = new ManualEventSource<>();
    EventSource<String, Repo> silent = new EventSource<>() {
      @Override
      public void start(EventSink<String, Repo> sink) {
        inner.start(sink);
      }

      @Override
      public void close() {
        inner.close();
      }

      @Override
      public String toString() {
        return "SilentSource";
      }
    };
    cache.close();
    store = new ManualEventSource<>();
    cache = builder().source(store).source(silent).build();
    inner.upsert("legacy", versioned(1), 1);
    store.upsert("redis", versioned(3), 3);
    store.progress(3);
    scheduler.runAll();

    assertThat(failure(cache.acquireAsOf("legacy", 1)))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("'legacy'").hasMessageContaining("SilentSource")
        .hasMessageContaining("reports no progress");
    assertThat(failure(cache.acquireAsOf("unknown", 1)))
        .as("a key no source has might come from the silent one")
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("whether 'unknown' existed");
    assertThat(servedVersion(cache.acquireAsOf("redis", 3)))
        .as("keys of the reporting source are still read as of a version").isEqualTo(3);
  }

  @Test
  void aKeyGivenThroughTheApiHasNoSourceToAsk() {
    cache.upsert("manual", versioned(1), 1);
    scheduler.runAll();

    assertThat(failure(cache.acquireAsOf("manual", 1)))
        .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("API");
  }

  @Test
  void aConsistentReadAsksTheSourceForTheStoresCurrentVersion() {
    store.upsert("redis", versioned(3), 3);
    store.progress(3);
    store.storeVersion(12); // writes the replica has not seen yet
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> read = cache.acquireConsistent("redis");
    assertThat(read).isNotDone();
    store.upsert("redis", versioned(11), 11);
    store.progress(12);
    scheduler.runAll();

    assertThat(servedVersion(read)).isEqualTo(11);
  }

  @Test
  void aConsistentReadFromASourceThatCannotTellItsVersionFails() {
    store.upsert("redis", versioned(3), 3);
    store.progress(3);
    scheduler.runAll();

    assertThat(failure(cache.acquireConsistent("redis")))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("cannot read the store's current version");
  }

  @Test
  void aConsistentReadWhoseSourceNeverTellsItsVersionTimesOutNamingTheSource() {
    ManualEventSource<String, Repo> inner = new ManualEventSource<>();
    EventSource<String, Repo> mute = new EventSource<>() {
      @Override
      public void start(EventSink<String, Repo> sink) {
        inner.start(sink);
      }

      @Override
      public boolean reportsProgress() {
        return true;
      }

      @Override
      public CompletableFuture<Long> currentVersion() {
        return new CompletableFuture<>(); // a store that never answers
      }

      @Override
      public void close() {
        inner.close();
      }

      @Override
      public String toString() {
        return "MuteStore";
      }
    };
    cache.close();
    cache = builder().source(mute).build();
    inner.upsert("redis", versioned(3), 3);
    scheduler.runAll();

    CompletableFuture<ClientLease<Client>> read = cache.acquireConsistent("redis");
    scheduler.advance(TIMEOUT);

    assertThat(failure(read)).isInstanceOf(ClientUnavailableException.class)
        .hasMessageContaining("MuteStore").hasMessageContaining("current version");
  }

  @Test
  void aConsistentReadSharesOneTimeoutBetweenAskingAndWaiting() {
    store.upsert("redis", versioned(3), 3);
    store.progress(3);
    scheduler.runAll();

    store.storeVersion(9); // never reached
    CompletableFuture<ClientLease<Client>> read = cache.acquireConsistent("redis");
    scheduler.advance(TIMEOUT);

    assertThat(failure(read)).isInstanceOf(ClientUnavailableException.class)
        .hasMessageContaining("as of the current version 9");
  }

  @Test
  void afterAnsweringAsOfAVersionNoKeyOfThatSourceIsServedOlder() {
    store.upsert("a", versioned(1), 1);
    store.upsert("b", versioned(2), 2);
    store.progress(2);
    scheduler.runAll();
    store.upsert("a", versioned(5), 5);
    store.upsert("b", versioned(6), 6);
    store.progress(6);

    CompletableFuture<ClientLease<Client>> a = cache.acquireAsOf("a", 6);
    CompletableFuture<ClientLease<Client>> b = cache.acquireAsOf("b", 2); // asks for less, gets 6
    scheduler.runAll();

    assertThat(servedVersion(a)).isEqualTo(5);
    assertThat(servedVersion(b)).as("b as of 2 answered after a as of 6 is b as of 6")
        .isEqualTo(6);
  }

  @Test
  void closingTheCacheFailsWaitingReads() {
    CompletableFuture<ClientLease<Client>> read = cache.acquireAsOf("redis", 4);
    cache.close();

    assertThat(failure(read)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void progressGoingBackIsIgnored() {
    store.upsert("redis", versioned(3), 3);
    store.progress(9);
    store.progress(4);
    scheduler.runAll();

    assertThat(servedVersion(cache.acquireAsOf("redis", 9))).isEqualTo(3);
  }

  private static long servedVersion(CompletableFuture<ClientLease<Client>> read) {
    assertThat(read).isDone();
    try (Lease<Client> lease = read.join()) {
      return versionOf(lease.get());
    }
  }

  private static Throwable failure(CompletableFuture<ClientLease<Client>> read) {
    assertThat(read).isCompletedExceptionally();
    try {
      read.join();
      throw new AssertionError("unreachable");
    } catch (CompletionException e) {
      return e.getCause();
    }
  }
}
