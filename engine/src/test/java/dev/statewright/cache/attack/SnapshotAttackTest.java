package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Factory;
import dev.statewright.cache.attack.Kit.Spec;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attack 1: {@code snapshot(key)} and {@code list()} are each consistent at one instant during the
 * call. Promise (Snapshot javadoc): "An immutable view of one entry at one instant";
 * {@code openLeases()}: "Leases open on the served client when this snapshot was taken";
 * {@code retiredClientsInUse()}: "Clients of this key replaced (or removed) but still leased when
 * this snapshot was taken"; ClientCache.list(): "each snapshot is consistent on its own".
 */
class SnapshotAttackTest {
  private final Threads scheduler = new Threads();
  private final Factory factory = new Factory();
  private final ClientCache<String, Spec, Client> cache = ClientCache.builder(factory)
      .name("attack-snapshot")
      .scheduler(scheduler)
      .backoff(Backoff.fixed(Duration.ofMillis(5)))
      .build();

  @AfterEach
  void tearDown() {
    cache.close();
    scheduler.close();
  }

  private Snapshot<String, Spec, Client> snap(String key) {
    return cache.snapshot(key).orElseThrow();
  }

  private Snapshot<String, Spec, Client> listed(String key) {
    return cache.list().stream().filter(s -> s.key().equals(key)).findFirst().orElseThrow();
  }

  @Test
  void openLeasesFollowsEachAcquireAndCloseOnTheSameThread() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    Deque<ClientLease<Client>> open = new ArrayDeque<>();
    for (int i = 1; i <= 5; i++) {
      open.push(cache.acquire("k"));
      assertThat(snap("k").openLeases()).as("snapshot after acquire #%d", i).isEqualTo(i);
      assertThat(listed("k").openLeases()).as("list after acquire #%d", i).isEqualTo(i);
    }
    for (int i = 4; i >= 0; i--) {
      open.pop().close();
      assertThat(snap("k").openLeases()).as("snapshot after a close, %d left", i).isEqualTo(i);
      assertThat(listed("k").openLeases()).as("list after a close, %d left", i).isEqualTo(i);
    }
    assertThat(snap("k").retiredClientsInUse()).isZero();
  }

  @Test
  void acquireAsyncLeaseIsCountedOnceTheFutureCompletes() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> a = await(cache.acquireAsync("k"));
    assertThat(snap("k").openLeases()).isEqualTo(1);
    ClientLease<Client> b = await(cache.acquireAsync("k", 1));
    assertThat(snap("k").openLeases()).isEqualTo(2);
    a.close();
    b.close();
    assertThat(snap("k").openLeases()).isZero();
  }

  @Test
  void closingALeaseTwiceCountsOnce() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> a = cache.acquire("k");
    ClientLease<Client> b = cache.acquire("k");
    a.close();
    a.close();
    a.close();
    assertThat(snap("k").openLeases()).isEqualTo(1);
    assertThat(b.get().isClosed()).isFalse();
    b.close();
    assertThat(snap("k").openLeases()).isZero();
  }

  @Test
  void aReplacedClientStillLeasedIsCountedAsRetiredUntilItsLeaseCloses() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> old = cache.acquire("k");
    await(cache.upsert("k", Spec.of(2), 2));
    Snapshot<String, Spec, Client> s = snap("k");
    assertThat(s.servedVersion()).hasValue(2);
    assertThat(s.openLeases()).as("no lease on the v2 client").isZero();
    assertThat(s.retiredClientsInUse()).isEqualTo(1);
    assertThat(listed("k").retiredClientsInUse()).isEqualTo(1);
    ClientLease<Client> fresh = cache.acquire("k");
    assertThat(snap("k").openLeases()).isEqualTo(1);
    assertThat(snap("k").retiredClientsInUse()).isEqualTo(1);
    old.close();
    assertThat(snap("k").retiredClientsInUse()).as("after the old lease closed").isZero();
    assertThat(listed("k").retiredClientsInUse()).isZero();
    assertThat(snap("k").openLeases()).isEqualTo(1);
    fresh.close();
    assertThat(snap("k").openLeases()).isZero();
  }

  @Test
  void aDeletedClientStillLeasedIsCountedOnTheTombstoneUntilItsLeaseCloses() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> lease = cache.acquire("k");
    Client client = lease.get();
    await(cache.delete("k", 2));
    assertThat(client.isClosed()).as("closed while leased").isFalse();
    Snapshot<String, Spec, Client> tomb = snap("k");
    assertThat(tomb.state()).isEqualTo(EntryState.REMOVED);
    assertThat(tomb.retiredClientsInUse()).isEqualTo(1);
    lease.close();
    assertThat(snap("k").retiredClientsInUse()).isZero();
    assertThat(client.closes.get()).as("closed once").isEqualTo(1);
  }

  @Test
  void aLeaseFromBeforeADeleteStillCountsAfterTheKeyIsReAdded() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> lease = cache.acquire("k");
    Client client = lease.get();
    await(cache.delete("k", 2));
    await(cache.upsert("k", Spec.of(3), 3));
    assertThat(client.isClosed()).as("closed while leased").isFalse();
    assertThat(snap("k").retiredClientsInUse()).as("v1 client still leased").isEqualTo(1);
    assertThat(snap("k").openLeases()).isZero();
    lease.close();
    assertThat(snap("k").retiredClientsInUse()).isZero();
    assertThat(client.closes.get()).isEqualTo(1);
  }

  @Test
  void snapshotToStringNeverShowsASpec() throws Exception {
    await(cache.upsert("k", Spec.of(1), 1));
    assertThat(snap("k").toString()).doesNotContain("SECRET").doesNotContain("Spec[");
    CompletableFuture<?> conflict = cache.upsert("k", new Spec(1, "SECRET-OTHER"), 1);
    assertThat(conflict).failsWithin(Kit.WAIT);
    assertThat(snap("k").lastError()).isPresent();
    assertThat(snap("k").toString()).doesNotContain("SECRET").doesNotContain("Spec[");
    await(cache.delete("k", 5));
    assertThat(snap("k").toString()).doesNotContain("SECRET").doesNotContain("Spec[");
    assertThat(cache.toString()).doesNotContain("SECRET");
  }

  /**
   * Threads acquire and close leases on one key while others snapshot it. Counters that only grow
   * bound the true count over the call: at least (acquires returned before) - (closes begun after),
   * at most (acquires begun after) - (closes returned before).
   */
  @Test
  void concurrentSnapshotsShowALeaseCountThatWasTrueDuringTheCall() throws Exception {
    SplittableRandom seedSource = Seeds.random("concurrentSnapshotsShowALeaseCount");
    long[] seeds = seedSource.longs(4).toArray();
    await(cache.upsert("k", Spec.of(1), 1));
    AtomicLong acquiresBegun = new AtomicLong();
    AtomicLong acquiresReturned = new AtomicLong();
    AtomicLong closesBegun = new AtomicLong();
    AtomicLong closesReturned = new AtomicLong();
    AtomicBoolean done = new AtomicBoolean();
    List<String> violations = new ArrayList<>();
    Workers.run(4, i -> {
      SplittableRandom random = new SplittableRandom(seeds[i]);
      if (i < 2) {
        Deque<ClientLease<Client>> mine = new ArrayDeque<>();
        for (int step = 0; step < 20_000; step++) {
          if (mine.isEmpty() || (mine.size() < 8 && random.nextBoolean())) {
            acquiresBegun.incrementAndGet();
            mine.push(cache.acquire("k"));
            acquiresReturned.incrementAndGet();
          } else {
            ClientLease<Client> l = random.nextBoolean() ? mine.pollFirst() : mine.pollLast();
            closesBegun.incrementAndGet();
            l.close();
            closesReturned.incrementAndGet();
          }
        }
        for (ClientLease<Client> l : mine) {
          closesBegun.incrementAndGet();
          l.close();
          closesReturned.incrementAndGet();
        }
        done.set(true);
      } else {
        int checks = 0;
        while (!done.get() || checks < 1000) {
          long lowA = acquiresReturned.get();
          long highC = closesReturned.get();
          Snapshot<String, Spec, Client> s = i == 2 ? snap("k") : listed("k");
          long highA = acquiresBegun.get();
          long lowC = closesBegun.get();
          long min = lowA - lowC;
          long max = highA - highC;
          if (s.openLeases() < min || s.openLeases() > max) {
            synchronized (violations) {
              violations.add("openLeases=" + s.openLeases() + " outside [" + min + ", " + max + "]");
            }
          }
          if (s.retiredClientsInUse() != 0) {
            synchronized (violations) {
              violations.add("retiredClientsInUse=" + s.retiredClientsInUse() + " with one client");
            }
          }
          checks++;
        }
      }
    });
    assertThat(violations).isEmpty();
    assertThat(snap("k").openLeases()).isZero();
  }

  /**
   * Twenty replaced clients, each held by one lease; two threads close those leases while two
   * others snapshot: the retired count lies between 20 - (closes begun after the call) and
   * 20 - (closes returned before it).
   */
  @Test
  void concurrentSnapshotsShowARetiredCountThatWasTrueDuringTheCall() throws Exception {
    SplittableRandom seedSource = Seeds.random("concurrentSnapshotsShowARetiredCount");
    for (int round = 0; round < 20; round++) {
      long base = round * 100L;
      List<ClientLease<Client>> pinned = new ArrayList<>();
      for (int v = 1; v <= 20; v++) {
        await(cache.upsert("k", Spec.of(base + v), base + v));
        pinned.add(cache.acquire("k"));
      }
      await(cache.upsert("k", Spec.of(base + 21), base + 21));
      assertThat(snap("k").retiredClientsInUse()).isEqualTo(20);
      java.util.Collections.shuffle(pinned, new java.util.Random(seedSource.nextLong()));
      AtomicLong closesBegun = new AtomicLong();
      AtomicLong closesReturned = new AtomicLong();
      AtomicBoolean done = new AtomicBoolean();
      List<String> violations = new ArrayList<>();
      Workers.run(4, i -> {
        if (i < 2) {
          for (int n = i; n < pinned.size(); n += 2) {
            closesBegun.incrementAndGet();
            pinned.get(n).close();
            closesReturned.incrementAndGet();
          }
          done.set(true);
        } else {
          int checks = 0;
          while (!done.get() || checks < 200) {
            long before = closesReturned.get();
            Snapshot<String, Spec, Client> s = i == 2 ? snap("k") : listed("k");
            long after = closesBegun.get();
            if (s.retiredClientsInUse() < 20 - after || s.retiredClientsInUse() > 20 - before) {
              record(violations, "retiredClientsInUse=" + s.retiredClientsInUse() + " outside ["
                  + (20 - after) + ", " + (20 - before) + "]");
            }
            if (s.openLeases() != 0) {
              record(violations, "openLeases=" + s.openLeases() + " on the unleased client");
            }
            checks++;
          }
        }
      });
      assertThat(violations).as("round %d", round).isEmpty();
      assertThat(snap("k").retiredClientsInUse()).isZero();
    }
  }

  /**
   * One thread upserts newer specs while others read: every snapshot pairs each spec with its own
   * version, and a lease taken between two snapshots of one generation is on that served client.
   */
  @Test
  void servedSpecPairsWithTheClientALeaseGetsUnderConcurrentUpserts() throws Exception {
    SplittableRandom seedSource = Seeds.random("servedSpecPairsWithTheClientALeaseGets");
    long[] seeds = seedSource.longs(3).toArray();
    await(cache.upsert("k", Spec.of(1), 1));
    AtomicBoolean done = new AtomicBoolean();
    List<String> violations = new ArrayList<>();
    Workers.run(3, i -> {
      SplittableRandom random = new SplittableRandom(seeds[i]);
      if (i == 0) {
        long v = 1;
        for (int n = 0; n < 300; n++) {
          v += 1 + random.nextInt(3);
          CompletableFuture<Snapshot<String, Spec, Client>> f = cache.upsert("k", Spec.of(v), v);
          if (random.nextInt(4) == 0) {
            Snapshot<String, Spec, Client> served = await(f);
            if (served.servedVersion().getAsLong() < v
                || snap("k").servedVersion().getAsLong() < v) {
              record(violations, "upsert v" + v + " completed with " + served + ", then " + snap("k"));
            }
          }
        }
        await(cache.upsert("k", Spec.of(v + 1), v + 1));
        done.set(true);
      } else {
        while (!done.get()) {
          Snapshot<String, Spec, Client> s1 = i == 1 ? snap("k") : listed("k");
          check(s1, violations);
          try (ClientLease<Client> lease = cache.acquire("k")) {
            Snapshot<String, Spec, Client> s2 = snap("k");
            check(s2, violations);
            Client c = lease.get();
            if (lease.version() < s1.desiredVersion()) {
              record(violations, "strict acquire after " + s1 + " leased v" + lease.version());
            }
            if (c.spec.v() != lease.version()) {
              record(violations, "lease.version " + lease.version() + " on " + c);
            }
            if (c.isClosed()) {
              record(violations, "leased " + c + " already closed");
            }
            if (s1.generation() == s2.generation()
                && (s1.servedSpec().orElseThrow() != c.spec
                    || s1.servedVersion().getAsLong() != lease.version())) {
              record(violations, "generation " + s1.generation() + " served "
                  + s1.servedVersion() + " but the lease got " + c);
            }
          }
        }
      }
    });
    assertThat(violations).isEmpty();
  }

  /**
   * As above with a change policy that keeps the client for two changes out of three (METADATA):
   * the served spec is the new one or one the policy judged equivalent, always paired with its
   * version, and a lease between two snapshots of one generation gets a client built from a spec
   * equivalent to the served one.
   */
  @Test
  void servedSpecPairsWithItsVersionUnderMetadataChanges() throws Exception {
    SplittableRandom seedSource = Seeds.random("servedSpecPairsWithItsVersionUnderMetadata");
    long[] seeds = seedSource.longs(3).toArray();
    ClientCache<String, Spec, Client> meta = ClientCache.builder(factory)
        .name("attack-metadata").scheduler(scheduler)
        .changePolicy(dev.statewright.cache.ChangePolicy.rebuildWhenChanged(Spec::secret))
        .build();
    try (meta) {
      await(meta.upsert("k", spec(1), 1));
      AtomicBoolean done = new AtomicBoolean();
      List<String> violations = new ArrayList<>();
      Workers.run(3, i -> {
        SplittableRandom random = new SplittableRandom(seeds[i]);
        if (i == 0) {
          long v = 1;
          for (int n = 0; n < 300; n++) {
            v += 1 + random.nextInt(2);
            CompletableFuture<?> f = meta.upsert("k", spec(v), v);
            if (random.nextInt(4) == 0) {
              await(f);
            }
          }
          await(meta.upsert("k", spec(v + 1), v + 1));
          done.set(true);
        } else {
          while (!done.get()) {
            Snapshot<String, Spec, Client> s1 = i == 1 ? meta.snapshot("k").orElseThrow()
                : meta.list().get(0);
            check(s1, violations);
            try (ClientLease<Client> lease = meta.acquire("k")) {
              Snapshot<String, Spec, Client> s2 = meta.snapshot("k").orElseThrow();
              check(s2, violations);
              Client c = lease.get();
              if (s1.generation() == s2.generation()
                  && !s1.servedSpec().orElseThrow().secret().equals(c.spec.secret())) {
                record(violations, "generation " + s1.generation() + " served "
                    + s1.servedVersion() + " but the lease got " + c);
              }
            }
          }
        }
      });
      assertThat(violations).isEmpty();
    }
  }

  /** Specs whose secret changes every third version: the other changes are METADATA. */
  private static Spec spec(long v) {
    return new Spec(v, "SECRET-" + (v / 3));
  }

  private static void check(Snapshot<String, Spec, Client> s, List<String> violations) {
    if (s.desiredSpec().v() != s.desiredVersion()) {
      record(violations, "desired v" + s.desiredVersion() + " with spec " + s.desiredSpec().v());
    }
    if (s.servedSpec().isPresent() != s.servedVersion().isPresent()) {
      record(violations, "served spec and version disagree on presence: " + s);
    }
    if (s.servedSpec().isPresent() && s.servedSpec().get().v() != s.servedVersion().getAsLong()) {
      record(violations, "served v" + s.servedVersion() + " with spec " + s.servedSpec().get().v());
    }
    if (s.state() == EntryState.CURRENT && s.servedVersion().getAsLong() != s.desiredVersion()) {
      record(violations, "CURRENT but served " + s.servedVersion() + " desired " + s.desiredVersion());
    }
    if (s.toString().contains("SECRET")) {
      record(violations, "toString shows a spec: " + s);
    }
  }

  private static void record(List<String> violations, String v) {
    synchronized (violations) {
      if (violations.size() < 20) {
        violations.add(v);
      }
    }
  }
}
