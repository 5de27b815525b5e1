package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
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
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attack 2: leases. Promises: "Every close() in the API (... Lease ...) is idempotent" (DESIGN);
 * "C6 disposal — a replaced or removed client is released exactly once, after the last lease on
 * it closes; it is never released while leased"; ClientLease.isCurrent: "false, for good, once
 * the cache replaced it ... or removed it"; superseded(): "Completes, exactly once and normally,
 * when the leased client is replaced or removed (the cache's close included)".
 */
class LeaseAttackTest {
  private final Threads scheduler = new Threads();
  private final Factory factory = new Factory();
  private final ClientCache<String, Spec, Client> cache = ClientCache.builder(factory)
      .name("attack-leases")
      .scheduler(scheduler)
      .backoff(Backoff.fixed(Duration.ofMillis(5)))
      .build();

  @AfterEach
  void tearDown() {
    cache.close();
    scheduler.close();
  }

  @Test
  void getAfterCloseThrowsAndCloseStaysIdempotent() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> lease = cache.acquire("k");
    lease.close();
    assertThatThrownBy(lease::get).isInstanceOf(IllegalStateException.class);
    lease.close();
    assertThat(lease.holder()).isNotBlank();
    assertThat(cache.snapshot("k").orElseThrow().openLeases()).isZero();
  }

  /**
   * A thread's name is the holder of the leases it takes, and any thread may be named "" or " "
   * (Thread.setName takes any non-null string); a lease refuses a blank holder. Before the fix
   * every read from such a thread threw IllegalArgumentException ("needs a non-blank holder").
   */
  @Test
  void aThreadWithABlankNameReadsAsAnyOther() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    for (String name : new String[] {"", " \t"}) {
      List<ClientLease<Client>> leases = new ArrayList<>();
      List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
      Thread reader = new Thread(() -> {
        try {
          leases.add(cache.acquire("k"));
          leases.add(cache.acquireAsync("k").join());
          leases.add(cache.acquireAsync("k", 1).join());
        } catch (Throwable t) {
          errors.add(t);
        }
      }, name);
      reader.start();
      reader.join();
      assertThat(errors).as("thread named '%s'", name).isEmpty();
      assertThat(leases).hasSize(3).allSatisfy(lease -> {
        assertThat(lease.holder()).isNotBlank().contains(Long.toString(reader.getId()));
        assertThat(lease.get()).isNotNull();
        lease.close();
      });
    }
    assertThat(cache.snapshot("k").orElseThrow().openLeases()).isZero();
  }

  @Test
  void theOldClientIsClosedOnceOnlyAfterItsLastLeaseWhenASpecChanges() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    List<ClientLease<Client>> leases = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      leases.add(cache.acquire("k"));
    }
    Client old = leases.get(0).get();
    CompletableFuture<Void> superseded = leases.get(0).superseded().toCompletableFuture();
    assertThat(superseded).isNotDone();
    await(cache.upsert("k", Spec.of(2), 2));
    await(superseded);
    for (ClientLease<Client> l : leases) {
      assertThat(l.isCurrent()).isFalse();
      assertThat(l.superseded().toCompletableFuture()).isDone();
      assertThat(l.get()).isSameAs(old);
      assertThat(l.version()).isEqualTo(1);
    }
    leases.get(1).close();
    leases.get(1).close();
    assertThat(old.closes.get()).as("two leases still open").isZero();
    leases.get(0).close();
    assertThat(old.closes.get()).as("one lease still open").isZero();
    leases.get(2).close();
    assertThat(old.closes.get()).as("after the last lease closed").isEqualTo(1);
    leases.get(2).close();
    leases.get(0).close();
    assertThat(old.closes.get()).isEqualTo(1);
    try (ClientLease<Client> fresh = cache.acquire("k")) {
      assertThat(fresh.isCurrent()).isTrue();
      assertThat(fresh.version()).isEqualTo(2);
      assertThat(fresh.get().spec.v()).isEqualTo(2);
    }
  }

  @Test
  void theClientIsClosedOnceOnlyAfterItsLastLeaseWhenTheKeyIsDeleted() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> a = cache.acquire("k");
    ClientLease<Client> b = cache.acquire("k");
    Client client = a.get();
    await(cache.delete("k", 2));
    await(a.superseded().toCompletableFuture());
    assertThat(a.isCurrent()).isFalse();
    assertThat(b.isCurrent()).isFalse();
    a.close();
    a.close();
    assertThat(client.closes.get()).isZero();
    b.close();
    assertThat(client.closes.get()).isEqualTo(1);
    b.close();
    assertThat(client.closes.get()).isEqualTo(1);
  }

  @Test
  void anUnleasedReplacedClientIsClosedOnceByTheReplacement() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    Client first = factory.built().get(0);
    await(cache.upsert("k", Spec.of(2), 2));
    await(first.closed);
    await(cache.delete("k", 3));
    Client second = factory.built().get(1);
    await(second.closed);
    assertThat(first.closes.get()).isEqualTo(1);
    assertThat(second.closes.get()).isEqualTo(1);
  }

  @Test
  void anInvalidatedOrReportedClientIsReplacedAndClosedOnceAfterItsLastLease() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    for (int round = 0; round < 2; round++) {
      ClientLease<Client> lease = cache.acquire("k");
      Client client = lease.get();
      long generation = cache.snapshot("k").orElseThrow().generation();
      if (round == 0) {
        assertThat(cache.invalidate("k", new java.io.IOException("401"))).isTrue();
      } else {
        assertThat(lease.reportFailure(new java.io.IOException("connection refused"))).isTrue();
      }
      await(lease.superseded().toCompletableFuture());
      assertThat(lease.isCurrent()).isFalse();
      assertThat(lease.reportFailure(new java.io.IOException("late"))).isFalse();
      var s = cache.snapshot("k").orElseThrow();
      assertThat(s.generation()).isGreaterThan(generation);
      assertThat(s.servedVersion()).hasValue(1);
      assertThat(s.retiredClientsInUse()).isEqualTo(1);
      assertThat(client.isClosed()).isFalse();
      try (ClientLease<Client> fresh = cache.acquire("k")) {
        assertThat(fresh.get()).isNotSameAs(client);
      }
      lease.close();
      assertThat(client.closes.get()).isEqualTo(1);
      assertThat(cache.snapshot("k").orElseThrow().retiredClientsInUse()).isZero();
    }
  }

  @Test
  void anEqualSpecAtANewerVersionKeepsTheLeaseCurrent() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> lease = cache.acquire("k");
    await(cache.upsert("k", Spec.of(1), 2));
    assertThat(lease.isCurrent()).isTrue();
    assertThat(lease.superseded().toCompletableFuture()).isNotDone();
    assertThat(lease.get().isClosed()).isFalse();
    lease.close();
  }

  @Test
  void closingTheCacheSupersedesLeasesAndClosesTheirClientAfterThem() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> lease = cache.acquire("k");
    Client client = lease.get();
    cache.close();
    await(lease.superseded().toCompletableFuture());
    assertThat(lease.isCurrent()).isFalse();
    assertThat(client.isClosed()).as("closed while leased").isFalse();
    lease.close();
    assertThat(client.closes.get()).isEqualTo(1);
  }

  /**
   * ClientLease.superseded(): "the holder should acquire again"; its dependents run "on the thread
   * that replaced the client, after the replacement". A dependent that acquires again at once gets
   * the replacement without waiting; one that throws or closes the cache breaks nothing.
   */
  @Test
  void aSupersededDependentThatAcquiresAgainGetsTheReplacementAtOnce() throws Exception {
    ClientCache<String, Spec, Client> quick = ClientCache.builder(factory)
        .name("attack-reacquire").scheduler(scheduler).acquireTimeout(Duration.ofSeconds(5))
        .build();
    try (quick) {
      await(quick.upsert("k", Spec.of(1), 1));
      ClientLease<Client> first = quick.acquire("k");
      CompletableFuture<Long> again = new CompletableFuture<>();
      first.superseded().thenRun(() -> {
        throw new IllegalStateException("a dependent that throws");
      });
      first.superseded().thenRun(() -> {
        long start = System.nanoTime();
        try (ClientLease<Client> next = quick.acquire("k")) {
          again.complete(next.version());
        } catch (Throwable t) {
          again.completeExceptionally(new AssertionError("re-acquire after "
              + Duration.ofNanos(System.nanoTime() - start), t));
        }
      });
      await(quick.upsert("k", Spec.of(2), 2));
      assertThat(await(again)).isEqualTo(2);
      first.close();
      ClientLease<Client> second = quick.acquire("k");
      CompletableFuture<Void> closedFromDependent = new CompletableFuture<>();
      second.superseded().thenRun(() -> {
        quick.close();
        closedFromDependent.complete(null);
      });
      await(quick.upsert("k", Spec.of(3), 3));
      await(closedFromDependent);
      assertThat(quick.list()).isEmpty();
      second.close();
    }
    factory.awaitAllClosed();
    assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes.get()).isEqualTo(1));
  }

  /** Threads close the same leases at once, round after round: each lease counts once. */
  @Test
  void racingClosesOfOneLeaseCountOnce() throws Exception {
    SplittableRandom random = Seeds.random("racingClosesOfOneLeaseCountOnce");
    await(cache.upsert("k", Spec.of(1), 1));
    long version = 1;
    for (int round = 0; round < 200; round++) {
      int leases = 1 + random.nextInt(3);
      int keep = random.nextInt(2);
      List<ClientLease<Client>> open = new ArrayList<>();
      for (int i = 0; i < leases + keep; i++) {
        open.add(cache.acquire("k"));
      }
      Client client = open.get(0).get();
      boolean replace = random.nextBoolean();
      if (replace) {
        version++;
        await(cache.upsert("k", Spec.of(version), version));
      }
      List<ClientLease<Client>> doomed = open.subList(0, leases);
      Workers.run(4, i -> {
        for (ClientLease<Client> l : doomed) {
          l.close();
        }
      });
      var s = cache.snapshot("k").orElseThrow();
      if (replace) {
        assertThat(s.openLeases()).as("round %d", round).isZero();
        assertThat(s.retiredClientsInUse()).as("round %d", round).isEqualTo(keep);
        assertThat(client.closes.get()).as("round %d", round).isEqualTo(1 - keep);
      } else {
        assertThat(s.openLeases()).as("round %d", round).isEqualTo(keep);
        assertThat(client.closes.get()).as("round %d", round).isZero();
      }
      for (ClientLease<Client> l : open.subList(leases, open.size())) {
        l.close();
      }
      if (replace) {
        assertThat(client.closes.get()).as("round %d", round).isEqualTo(1);
      }
    }
    assertThat(cache.snapshot("k").orElseThrow().openLeases()).isZero();
  }

  /**
   * The last lease on a client closes on one thread while another thread's upsert replaces that
   * client: whichever wins, the snapshot that follows counts no retired client, and the replaced
   * client is closed exactly once.
   */
  @Test
  void theLastLeaseClosingWhileItsClientIsReplacedReleasesItOnce() throws Exception {
    SplittableRandom random = Seeds.random("theLastLeaseClosingWhileItsClientIsReplaced");
    await(cache.upsert("k", Spec.of(1), 1));
    for (int round = 0; round < 300; round++) {
      long v = round + 2;
      int leases = 1 + random.nextInt(2);
      List<ClientLease<Client>> open = new ArrayList<>();
      for (int i = 0; i < leases; i++) {
        open.add(cache.acquire("k"));
      }
      Client old = open.get(0).get();
      boolean closerFirst = random.nextBoolean();
      Workers.run(2, i -> {
        if ((i == 0) == closerFirst) {
          open.forEach(ClientLease::close);
        } else {
          await(cache.upsert("k", Spec.of(v), v));
        }
      });
      var s = cache.snapshot("k").orElseThrow();
      assertThat(s.servedVersion()).as("round %d", round).hasValue(v);
      assertThat(s.retiredClientsInUse()).as("round %d: %s", round, s).isZero();
      assertThat(s.openLeases()).as("round %d", round).isZero();
      await(old.closed);
      assertThat(old.closes.get()).as("round %d", round).isEqualTo(1);
    }
  }

  /**
   * Readers lease and use clients while a writer replaces them and a deleter sometimes removes
   * the key: no leased client is ever closed, a lease that is not current has its stage completed,
   * and after the cache closes every client built was closed exactly once.
   */
  @Test
  void leasesRacingReplacementsNeverSeeAClosedClientAndEveryClientClosesOnce() throws Exception {
    SplittableRandom seedSource = Seeds.random("leasesRacingReplacements");
    long[] seeds = seedSource.longs(4).toArray();
    AtomicLong version = new AtomicLong(1);
    await(cache.upsert("k", Spec.of(1), 1));
    AtomicBoolean done = new AtomicBoolean();
    List<String> violations = Collections.synchronizedList(new ArrayList<>());
    Workers.run(4, i -> {
      SplittableRandom random = new SplittableRandom(seeds[i]);
      if (i == 0) {
        for (int n = 0; n < 400; n++) {
          long v = version.incrementAndGet();
          CompletableFuture<?> f = random.nextInt(10) == 0
              ? cache.delete("k", v) : cache.upsert("k", Spec.of(v), v);
          if (random.nextInt(3) == 0) {
            f.handle((x, e) -> x).get(Kit.WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
          }
        }
        done.set(true);
      } else {
        List<ClientLease<Client>> held = new ArrayList<>();
        while (!done.get()) {
          if (held.size() < 3 && random.nextBoolean()) {
            try {
              ClientLease<Client> l = cache.acquire("k");
              if (l.get().isClosed()) {
                violations.add("acquired closed " + l.get());
              }
              held.add(l);
            } catch (java.util.NoSuchElementException removed) {
              // the key is deleted right now
            }
          } else if (!held.isEmpty()) {
            ClientLease<Client> l = held.remove(random.nextInt(held.size()));
            Client c = l.get();
            boolean current = l.isCurrent();
            if (c.isClosed()) {
              violations.add("leased " + c + " closed under its lease");
            }
            if (!current && !l.superseded().toCompletableFuture().isDone()) {
              violations.add("lease on " + c + " not current but superseded() not done");
            }
            l.close();
          }
        }
        for (ClientLease<Client> l : held) {
          if (l.get().isClosed()) {
            violations.add("leased " + l.get() + " closed under its lease");
          }
          l.close();
        }
      }
    });
    assertThat(violations).isEmpty();
    long last = version.incrementAndGet();
    await(cache.upsert("k", Spec.of(last), last));
    var quiet = cache.snapshot("k").orElseThrow();
    assertThat(quiet.openLeases()).isZero();
    assertThat(quiet.retiredClientsInUse()).as("every lease closed: %s", quiet).isZero();
    Client served;
    try (ClientLease<Client> lease = cache.acquire("k")) {
      served = lease.get();
    }
    CompletableFuture.allOf(factory.built().stream().filter(c -> c != served).map(c -> c.closed)
        .toArray(CompletableFuture[]::new)).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(served.isClosed()).isFalse();
    cache.close();
    factory.awaitAllClosed();
    assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes.get()).as("%s", c).isEqualTo(1));
  }
}
