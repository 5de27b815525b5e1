package dev.statewright.cache.attack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.ClientUnavailableException;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Factory;
import dev.statewright.cache.attack.Kit.Spec;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attack 3, continued: the cache's {@code close()} racing upserts, deletes and acquires. Promise
 * (ClientCache.close): "Stops the sources, abandons builds and releases every client once its
 * leases close. Idempotent. Atomic with every other method: once it returns no entry is live
 * (every call walks the entries, a nested one too), and an upsert racing it is removed by it or by
 * itself." DESIGN Liveness: nothing a caller does "leaks a client".
 */
class CacheCloseRaceAttackTest {
  private static final int KEYS = 6;
  private final Threads scheduler = new Threads();

  @AfterEach
  void tearDown() {
    scheduler.close();
  }

  @Test
  void closeRacingUpsertsDeletesAndAcquiresLeavesNothingLiveAndLeaksNoClient() throws Exception {
    SplittableRandom seedSource = Seeds.random("closeRacingUpsertsDeletesAndAcquires");
    for (int round = 0; round < 40; round++) {
      runRound(round, seedSource.split());
    }
  }

  /**
   * An upsert of a new key passes close()'s check, then waits in user code (its dependency's
   * hashCode) while close() walks the entries and returns; its insert lands after that. Once
   * close() has returned no read may show the key live (it was, until its own update removed it,
   * and the old code hashed its dependency again for the index, user code, in that window).
   */
  @Test
  void aKeyInsertedAfterCloseWalkedTheEntriesIsNeverSeenLive() throws Exception {
    CountDownLatch hashing = new CountDownLatch(1);
    CountDownLatch closedNow = new CountDownLatch(1);
    CompletableFuture<Void> hashedAgain = new CompletableFuture<>();
    CountDownLatch looked = new CountDownLatch(1);
    AtomicLong hashes = new AtomicLong();
    Object slow = new Object() {
      @Override
      public int hashCode() {
        long n = hashes.incrementAndGet();
        try {
          if (n == 1) { // the upsert's look at its spec, before its insert
            hashing.countDown();
            closedNow.await();
          } else if (n == 2) { // after its insert
            hashedAgain.complete(null);
            looked.await(5, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return 7;
      }
    };
    ClientCache<String, Spec, Client> cache = ClientCache.<String, Spec, Client>builder(
        new Factory()).scheduler(scheduler).dependsOn(spec -> List.of(slow)).build();
    CompletableFuture<CompletableFuture<?>> upsert =
        CompletableFuture.supplyAsync(() -> cache.upsert("k", Spec.of(1), 1), scheduler::execute);
    assertThat(hashing.await(20, TimeUnit.SECONDS)).isTrue();
    cache.close();
    closedNow.countDown();
    CompletableFuture.anyOf(upsert, hashedAgain).get(20, TimeUnit.SECONDS);
    try {
      assertThat(cache.list()).as("list() after close()").isEmpty();
      cache.snapshot("k").ifPresent(s -> assertThat(s.state()).as("k after close()")
          .isEqualTo(EntryState.REMOVED));
    } finally {
      looked.countDown();
    }
    assertThat(upsert.get(20, TimeUnit.SECONDS)).failsWithin(Kit.WAIT);
  }

  /** Closing the cache while a factory call is blocked abandons it; its late client is closed. */
  @Test
  void closeWhileABuildIsBlockedAbandonsItAndClosesItsLateClientOnce() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Client> late = new CompletableFuture<>();
    ClientCache<String, Spec, Client> cache = ClientCache.<String, Spec, Client>builder(
        (key, spec) -> {
          entered.countDown();
          while (true) {
            try {
              release.await();
              break;
            } catch (InterruptedException abandoned) {
              // a hostile factory keeps going
            }
          }
          Client c = new Client(key, spec);
          late.complete(c);
          return c;
        }).scheduler(scheduler).build();
    CompletableFuture<?> upsert = cache.upsert("k", Spec.of(1), 1);
    assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
    cache.close();
    assertThat(cache.list()).isEmpty();
    assertThat(upsert).failsWithin(Kit.WAIT);
    Optional<Snapshot<String, Spec, Client>> s = cache.snapshot("k");
    s.ifPresent(snap -> assertThat(snap.abandonedBuildsRunning()).isEqualTo(1));
    assertThat(cache.upsert("k", Spec.of(2), 2)).failsWithin(Kit.WAIT);
    release.countDown();
    Client c = late.get(20, TimeUnit.SECONDS);
    c.closed.get(20, TimeUnit.SECONDS);
    assertThat(c.closes.get()).isEqualTo(1);
  }

  private void runRound(int round, SplittableRandom roundRandom) throws Exception {
    Factory factory = new Factory();
    ClientCache<String, Spec, Client> cache = ClientCache.builder(factory)
        .name("attack-close").scheduler(scheduler).maxConcurrentBuilds(3)
        .backoff(Backoff.fixed(Duration.ofMillis(1))).acquireTimeout(Duration.ofSeconds(5))
        .build();
    long[] seeds = roundRandom.longs(3).toArray();
    int closeAfter = roundRandom.nextInt(300);
    AtomicLong versions = new AtomicLong();
    AtomicLong ops = new AtomicLong();
    CountDownLatch closeDue = new CountDownLatch(1);
    AtomicBoolean closed = new AtomicBoolean();
    Queue<CompletableFuture<?>> futures = new ConcurrentLinkedQueue<>();
    List<String> violations = Collections.synchronizedList(new ArrayList<>());
    Workers.run(3, i -> {
      SplittableRandom random = new SplittableRandom(seeds[i]);
      if (i == 2) {
        assertThat(closeDue.await(20, TimeUnit.SECONDS)).isTrue();
        cache.close();
        closed.set(true);
        if (!cache.list().isEmpty()) {
          violations.add("round " + round + ": list() after close: " + cache.list());
        }
        cache.close();
        return;
      }
      List<ClientLease<Client>> held = new ArrayList<>();
      for (int n = 0; n < 200; n++) {
        if (ops.incrementAndGet() == closeAfter) {
          closeDue.countDown();
        }
        String key = "k" + random.nextInt(KEYS);
        boolean after = closed.get();
        switch (random.nextInt(6)) {
          case 0, 1 -> {
            long v = versions.incrementAndGet();
            futures.add(cache.upsert(key, Spec.of(v), v));
          }
          case 2 -> futures.add(cache.delete(key, versions.incrementAndGet()));
          case 3 -> {
            try {
              ClientLease<Client> l = cache.acquire(key);
              if (after) {
                violations.add("round " + round + ": acquired " + l.get() + " after close");
              }
              if (l.get().isClosed()) {
                violations.add("round " + round + ": acquired closed " + l.get());
              }
              synchronized (held) { // an acquireAsync of this worker may add at the same time
                held.add(l);
              }
            } catch (NoSuchElementException | ClientUnavailableException | IllegalStateException e) {
              // the key is absent, removed or could not be served: allowed
            }
          }
          case 4 -> {
            CompletableFuture<ClientLease<Client>> f = cache.acquireAsync(key);
            futures.add(f.thenAccept(l -> {
              if (after) {
                violations.add("round " + round + ": acquiredAsync " + l.get() + " after close");
              }
              synchronized (held) {
                held.add(l);
              }
            }));
          }
          default -> {
            ClientLease<Client> l;
            synchronized (held) {
              l = held.isEmpty() ? null : held.remove(random.nextInt(held.size()));
            }
            if (l != null) {
              if (l.get().isClosed()) {
                violations.add("round " + round + ": " + l.get() + " closed under its lease");
              }
              l.close();
            }
          }
        }
        if (closed.get()) {
          if (!cache.list().isEmpty()) {
            violations.add("round " + round + ": live after close " + cache.list());
          }
          Optional<Snapshot<String, Spec, Client>> s = cache.snapshot(key);
          if (s.isPresent() && s.get().state() != EntryState.REMOVED) {
            violations.add("round " + round + ": " + s.get() + " after close");
          }
        }
      }
      closeDue.countDown();
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).handle((x, e) -> x)
          .get(20, TimeUnit.SECONDS);
      synchronized (held) {
        held.forEach(ClientLease::close);
        held.clear();
      }
    });
    assertThat(violations).isEmpty();
    assertThat(futures).as("round %d: every future completes", round)
        .allSatisfy(f -> assertThat(f).isDone());
    assertThat(cache.list()).isEmpty();
    factory.awaitAllClosed();
    assertThat(factory.built()).as("round %d", round)
        .allSatisfy(c -> assertThat(c.closes.get()).as("%s", c).isEqualTo(1));
  }
}
