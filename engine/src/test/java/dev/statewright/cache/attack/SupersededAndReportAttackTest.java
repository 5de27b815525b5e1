package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Factory;
import dev.statewright.cache.attack.Kit.Spec;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.lifecycle.Transition;
import dev.statewright.testing.Seeds;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attack on the lease's lifecycle signals, public API only. Promises: ClientLease.superseded()
 * "Completes, exactly once and normally, when the leased client is replaced or removed ... It
 * cannot be completed by its holders ... it never completes exceptionally"; C10 "Every ClientLease
 * on a client sees superseded() complete exactly once ... and never while its key still serves
 * it; from then on isCurrent() is false"; C11 "A report against a client already replaced changes
 * nothing" and "the key goes STALE, cause is its lastError, and it rebuilds"; C6; Liveness.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SupersededAndReportAttackTest {
  private final Threads threads = new Threads();
  private final Events events = new Events();
  private final Map<Client, AtomicInteger> leasedNow = new ConcurrentHashMap<>();
  private final Queue<String> problems = new ConcurrentLinkedQueue<>();
  private final Factory factory = new Factory();
  private ClientCache<String, Spec, Client> cache;

  @AfterEach
  void tearDown() {
    if (cache != null) {
      cache.close();
    }
    threads.close();
  }

  private ClientCache<String, Spec, Client> build(int permits) {
    cache = ClientCache.builder(factory).name("attack-superseded").scheduler(threads)
        .listener(events).maxConcurrentBuilds(permits)
        .backoff(Backoff.fixed(Duration.ofMillis(5)))
        .closer(c -> {
          AtomicInteger open = leasedNow.get(c);
          if (open != null && open.get() != 0) {
            problems.add(c + " closed with " + open.get() + " leases open");
          }
          c.close();
        }).build();
    return cache;
  }

  @Test
  void theStageHandedOutCannotBeCompletedOrBrokenFromOutside() throws Exception {
    build(4);
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> a = cache.acquire("k");
    ClientLease<Client> b = cache.acquire("k");
    CompletableFuture<Void> hostile = a.superseded().toCompletableFuture();
    AtomicInteger accepted = new AtomicInteger();
    for (Runnable attack : List.<Runnable>of(
        () -> hostile.complete(null),
        () -> hostile.completeExceptionally(new IllegalStateException("forged")),
        () -> hostile.cancel(true),
        () -> hostile.obtrudeValue(null),
        () -> hostile.obtrudeException(new IllegalStateException("forged")),
        () -> hostile.orTimeout(1, TimeUnit.NANOSECONDS),
        () -> hostile.completeOnTimeout(null, 1, TimeUnit.NANOSECONDS))) {
      try {
        attack.run();
        accepted.incrementAndGet();
      } catch (UnsupportedOperationException refused) {
        // refusing is one way to keep the promise
      }
    }
    CompletableFuture<Void> fresh = b.superseded().toCompletableFuture();
    CompletableFuture<Void> again = a.superseded().toCompletableFuture();
    if (accepted.get() > 0) { // a timeout accepted would complete it a nanosecond later: wait
      hostile.handle((v, e) -> null).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    }
    assertThat(fresh.isDone()).as("another lease's stage, after a holder attacked its own")
        .isFalse();
    assertThat(again.isDone()).as("the attacker's own stage, asked again").isFalse();
    assertThat(a.isCurrent()).isTrue();

    await(cache.upsert("k", Spec.of(2), 2));
    assertThat(fresh.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isNull();
    assertThat(again.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isNull();
    assertThat(fresh.isCompletedExceptionally()).isFalse();
    a.close();
    b.close();
  }

  @Test
  void aSupersededDependentThatBlocksStallsNoOtherKeyAndLosesNoPermit() throws Exception {
    build(1);
    await(cache.upsert("a", Spec.of(1), 1));
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    ClientLease<Client> held = cache.acquire("a");
    held.superseded().thenRun(() -> {
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    CompletableFuture<CompletableFuture<Snapshot<String, Spec, Client>>> replacing =
        CompletableFuture.supplyAsync(() -> cache.upsert("a", Spec.of(2), 2), threads::execute);
    try {
      assertThat(entered.await(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      await(cache.upsert("b", Spec.of(1), 1)); // one permit in all: it must be back
      await(cache.upsert("a", Spec.of(3), 3));
      try (ClientLease<Client> now = cache.acquire("a")) {
        assertThat(now.get().spec).isEqualTo(Spec.of(3));
      }
      assertThat(cache.footprint().permitsAvailable()).isEqualTo(1);
    } finally {
      release.countDown();
    }
    await(await(replacing));
    held.close();
  }

  @Test
  void aSupersededDependentThatThrowsKeepsTheOthersToldOnce() throws Exception {
    build(4);
    await(cache.upsert("k", Spec.of(1), 1));
    AtomicInteger told = new AtomicInteger();
    List<ClientLease<Client>> leases = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ClientLease<Client> lease = cache.acquire("k");
      leases.add(lease);
      lease.superseded().thenRun(() -> {
        throw new StackOverflowError("dependent " + told.incrementAndGet());
      });
      lease.superseded().thenRun(told::incrementAndGet);
    }
    await(cache.upsert("k", Spec.of(2), 2));
    await(cache.upsert("k", Spec.of(3), 3));
    assertThat(told).hasValue(20);
    for (ClientLease<Client> lease : leases) {
      assertThat(lease.superseded().toCompletableFuture().get(1, TimeUnit.SECONDS)).isNull();
      lease.close();
    }
    await(factory.built().get(0).closed);
  }

  /** Many holders report one client failing at once: one rebuild, one new generation. */
  @Test
  void manyHoldersReportingOneClientAtOnceCauseOneRebuild() throws Exception {
    SplittableRandom random = Seeds.random("manyHoldersReportingOneClientAtOnce");
    build(4);
    for (int round = 0; round < 30; round++) {
      String key = "k" + round;
      await(cache.upsert(key, Spec.of(1), 1));
      int holders = 2 + random.nextInt(7);
      CyclicBarrier start = new CyclicBarrier(holders);
      List<ClientLease<Client>> leases = new ArrayList<>();
      for (int i = 0; i < holders; i++) {
        leases.add(cache.acquire(key));
      }
      List<CompletableFuture<Boolean>> reports = new ArrayList<>();
      for (ClientLease<Client> lease : leases) {
        reports.add(CompletableFuture.supplyAsync(() -> {
          try {
            start.await(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return lease.reportFailure(new IllegalStateException("401 from " + lease.holder()));
        }, threads::execute));
      }
      CompletableFuture.allOf(reports.toArray(CompletableFuture[]::new))
          .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(reports.get(0).join() || reports.stream().anyMatch(CompletableFuture::join))
          .as("some report marked the client").isTrue();
      try (ClientLease<Client> now = cache.acquire(key)) {
        assertThat(now.get()).isNotSameAs(leases.get(0).get());
      }
      for (ClientLease<Client> lease : leases) {
        assertThat(lease.isCurrent()).isFalse();
        assertThat(lease.reportFailure(new IllegalStateException("late"))).isFalse();
        lease.close();
      }
      Snapshot<String, Spec, Client> s = cache.snapshot(key).orElseThrow();
      assertThat(s.generation()).as("round " + round + ", " + holders + " reports").isEqualTo(2);
      assertThat(s.state()).isEqualTo(EntryState.CURRENT);
      assertThat(factory.built().stream().filter(c -> c.key.equals(key))).hasSize(2);
    }
  }

  /**
   * C10, "from then on isCurrent() is false": once another reader can be handed the new client, a
   * lease on the old one must not still say it is current. The listener hears the new client's
   * transition after the node serving it is installed; a lease on the replaced client asked there
   * (and by any thread that acquired the new one) must answer false, its stage told, once.
   */
  @Test
  void aLeaseOnTheReplacedClientIsNotCurrentOnceTheNewOneIsServed() throws Exception {
    AtomicReference<ClientLease<Client>> old = new AtomicReference<>();
    Queue<String> seen = new ConcurrentLinkedQueue<>();
    cache = ClientCache.builder(factory).name("attack-is-current").scheduler(threads)
        .listener(new CacheListener<String>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            ClientLease<Client> lease = old.get();
            if (lease != null && t.event() == EntryEvent.BUILD_SUCCEEDED) {
              try (ClientLease<Client> now = cache.acquire(key)) {
                seen.add(t + ": new client " + (now.get() != lease.get())
                    + ", old lease current " + lease.isCurrent() + ", its stage told "
                    + lease.superseded().toCompletableFuture().isDone());
              }
            }
          }
        }).build();
    await(cache.upsert("k", Spec.of(1), 1));
    try (ClientLease<Client> lease = cache.acquire("k")) {
      AtomicInteger told = new AtomicInteger();
      lease.superseded().thenRun(told::incrementAndGet); // asked before: the stage is not DONE
      old.set(lease);
      await(cache.upsert("k", Spec.of(2), 2));
      assertThat(seen).containsExactly("REBUILDING --BUILD_SUCCEEDED--> CURRENT: new client true, "
          + "old lease current false, its stage told true");
      assertThat(lease.isCurrent()).isFalse();
      assertThat(told).hasValue(1);
      assertThat(cache.snapshot("k").orElseThrow().retiredClientsInUse()).isOne();
    }
    assertThat(cache.snapshot("k").orElseThrow().retiredClientsInUse()).isZero();
  }

  /** Causes that break whoever formats them, and a null one. */
  @Test
  void aReportWithAHostileOrNullCauseNeitherThrowsNorStallsTheKey() throws Exception {
    build(4);
    Throwable[] causes = {
        new RuntimeException() {
          @Override
          public String getMessage() {
            throw new IllegalStateException("getMessage");
          }

          @Override
          public String toString() {
            throw new IllegalStateException("toString");
          }
        },
        new Error() {
          @Override
          public synchronized Throwable getCause() {
            return this;
          }

          @Override
          public StackTraceElement[] getStackTrace() {
            throw new IllegalStateException("getStackTrace");
          }
        },
        new InterruptedException("not an interrupt"),
    };
    long v = 1;
    await(cache.upsert("k", Spec.of(v), v));
    for (Throwable cause : causes) {
      ClientLease<Client> lease = cache.acquire("k");
      boolean marked = lease.reportFailure(cause);
      assertThat(marked).isTrue();
      assertThat(Thread.currentThread().isInterrupted()).isFalse();
      try (ClientLease<Client> next = cache.acquire("k")) {
        assertThat(next.get()).isNotSameAs(lease.get());
      }
      lease.close();
      ClientLease<Client> other = cache.acquire("k");
      assertThat(cache.invalidate("k", cause)).isTrue();
      try (ClientLease<Client> next = cache.acquire("k")) {
        assertThat(next.get()).isNotSameAs(other.get());
      }
      other.close();
    }
    ClientLease<Client> lease = cache.acquire("k");
    boolean marked;
    try {
      marked = lease.reportFailure(null);
    } catch (NullPointerException refused) {
      marked = false;
    }
    if (marked) { // accepted: the key rebuilds as for any cause
      try (ClientLease<Client> next = cache.acquire("k")) {
        assertThat(next.get()).isNotSameAs(lease.get());
      }
    } else { // refused: nothing changed
      assertThat(lease.isCurrent()).isTrue();
      assertThat(cache.snapshot("k").orElseThrow().state()).isEqualTo(EntryState.CURRENT);
    }
    lease.close();
    await(cache.upsert("k", Spec.of(2), 2));
    cache.close();
    factory.awaitAllClosed();
    assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes).hasValue(1));
  }

  /** A report racing the delete of its key: nothing is built for a removed key, nothing leaks. */
  @Test
  void aReportRacingTheDeleteOfItsKeyLeavesItRemovedAndLeaksNothing() throws Exception {
    build(4);
    for (int round = 0; round < 50; round++) {
      String key = "k" + round;
      await(cache.upsert(key, Spec.of(1), 1));
      ClientLease<Client> lease = cache.acquire(key);
      leasedNow.computeIfAbsent(lease.get(), c -> new AtomicInteger()).incrementAndGet();
      CyclicBarrier start = new CyclicBarrier(2);
      CompletableFuture<Boolean> report = CompletableFuture.supplyAsync(() -> {
        barrier(start);
        return lease.reportFailure(new IllegalStateException("connection refused"));
      }, threads::execute);
      CompletableFuture<CompletableFuture<Void>> delete = CompletableFuture.supplyAsync(() -> {
        barrier(start);
        return cache.delete(key, 2);
      }, threads::execute);
      report.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      await(await(delete));
      assertThat(cache.snapshot(key).orElseThrow().state()).isEqualTo(EntryState.REMOVED);
      assertThatThrownBy(() -> cache.acquire(key)).isInstanceOf(NoSuchElementException.class);
      assertThat(lease.isCurrent()).isFalse();
      assertThat(lease.superseded().toCompletableFuture().get(Kit.WAIT.toSeconds(),
          TimeUnit.SECONDS)).isNull();
      assertThat(lease.reportFailure(new IllegalStateException("after"))).isFalse();
      assertThat(lease.get().isClosed()).isFalse();
      leasedNow.get(lease.get()).decrementAndGet();
      lease.close();
    }
    events.awaitBuildsSettled(); // a rebuild the report started may have been abandoned, running
    factory.awaitAllClosed();
    assertThat(cache.footprint().permitsAvailable()).isEqualTo(4);
    assertThat(problems).isEmpty();
    assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes).hasValue(1));
  }

  private static void barrier(CyclicBarrier b) {
    try {
      b.await(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Holders acquire, listen to superseded() and close while the writer replaces (rebuild,
   * invalidate, report), keeps (an equal spec at a newer version), deletes and re-adds the key,
   * and at last closes the cache. Every lease is told exactly once, only after its client stopped
   * being served, and every client is closed once, after its last lease.
   */
  @Test
  void everyLeaseIsToldExactlyOnceWhateverReplacesItsClient() throws Exception {
    SplittableRandom seeds = Seeds.random("everyLeaseIsToldExactlyOnce");
    for (int round = 0; round < 6; round++) {
      SplittableRandom random = seeds.split();
      Factory roundFactory = factory;
      build(2);
      Queue<Told> all = new ConcurrentLinkedQueue<>();
      AtomicBoolean stop = new AtomicBoolean();
      String key = "k";
      await(cache.upsert(key, Spec.of(1), 1));
      List<CompletableFuture<Void>> holders = new ArrayList<>();
      for (int h = 0; h < 3; h++) {
        holders.add(CompletableFuture.runAsync(() -> hold(key, stop, all), threads::execute));
      }
      long v = 1;
      for (int op = 0; op < 60; op++) {
        switch (random.nextInt(6)) {
          case 0, 1 -> cache.upsert(key, Spec.of(++v), v);
          case 2 -> cache.upsert(key, currentSpecOr(key, Spec.of(v + 1)), ++v); // same client
          case 3 -> {
            try {
              cache.invalidate(key, new IllegalStateException("401"));
            } catch (NoSuchElementException removed) {
              // deleted meanwhile
            }
          }
          case 4 -> {
            cache.delete(key, ++v);
            cache.upsert(key, Spec.of(++v), v);
          }
          default -> {
            try (ClientLease<Client> l = cache.acquireAsync(key).get(Kit.WAIT.toSeconds(),
                TimeUnit.SECONDS)) {
              l.reportFailure(new IllegalStateException("refused"));
            } catch (java.util.concurrent.ExecutionException removed) {
              // deleted, or its build waited for failed
            }
          }
        }
        if (random.nextInt(4) == 0) {
          cache.acquireAsync(key, v).handle((l, e) -> l == null ? null : closeLease(l))
              .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
        }
      }
      stop.set(true);
      cache.close();
      CompletableFuture.allOf(holders.toArray(CompletableFuture[]::new))
          .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      for (Told t : all) {
        assertThat(t.lease.superseded().toCompletableFuture()
            .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isNull();
      }
      for (Told t : all) {
        assertThat(t.count).as("round " + round + ": " + t.lease + " told").hasValue(1);
        assertThat(t.lease.isCurrent()).isFalse();
      }
      roundFactory.awaitAllClosed();
      assertThat(roundFactory.built()).allSatisfy(c -> assertThat(c.closes).hasValue(1));
      assertThat(problems).isEmpty();
      assertThat(events.count(EntryEvent.DELETED)).isPositive();
    }
  }

  private Void closeLease(ClientLease<Client> lease) {
    lease.close();
    return null;
  }

  private Spec currentSpecOr(String key, Spec otherwise) {
    return cache.snapshot(key).map(Snapshot::desiredSpec).orElse(otherwise);
  }

  private record Told(ClientLease<Client> lease, AtomicInteger count) { }

  private void hold(String key, AtomicBoolean stop, Queue<Told> all) {
    List<ClientLease<Client>> mine = new ArrayList<>();
    while (!stop.get() || !mine.isEmpty()) {
      if (!stop.get()) {
        ClientLease<Client> lease;
        try {
          lease = cache.acquireAsync(key).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception gone) { // removed, closed, or its build failed: try again
          continue;
        }
        leasedNow.computeIfAbsent(lease.get(), c -> new AtomicInteger()).incrementAndGet();
        Told told = new Told(lease, new AtomicInteger());
        all.add(told);
        lease.superseded().thenRun(() -> {
          told.count.incrementAndGet();
          if (lease.isCurrent()) {
            problems.add(lease + " told while still current");
          }
        });
        mine.add(lease);
      }
      if (mine.size() > 3 || stop.get() && !mine.isEmpty()) {
        ClientLease<Client> old = mine.remove(0);
        leasedNow.get(old.get()).decrementAndGet();
        old.close();
      }
    }
  }
}
