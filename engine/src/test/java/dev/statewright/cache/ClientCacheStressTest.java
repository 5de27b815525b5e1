package dev.statewright.cache;

import static dev.statewright.cache.TestClients.versionOf;
import static dev.statewright.cache.TestClients.versioned;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.lease.Lease;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Real threads (more than the machine's cores) against the real cache, and the same scenario
 * against a deliberately broken cache to prove each check bites. Seeded; the seed is printed.
 */
class ClientCacheStressTest {
  private static final int THREADS = 4;
  private static final int BROKEN_ATTEMPTS = 5;

  /** One scenario: runs against a cache built on a factory and returns the violations it saw. */
  private interface Scenario {
    List<String> run(Function<Factory, RepoCache> cacheOf, SplittableRandom random) throws Exception;
  }

  private static void holdsForRealAndCatchesBroken(String name, Scenario scenario,
      Function<Factory, RepoCache> broken) throws Exception {
    SplittableRandom random = Seeds.random(name);
    for (int round = 0; round < 3; round++) {
      assertThat(scenario.run(RepoCache::real, random.split())).as("%s on ClientCache", name).isEmpty();
    }
    for (int attempt = 1; attempt <= BROKEN_ATTEMPTS; attempt++) {
      List<String> caught = scenario.run(broken, random.split());
      if (!caught.isEmpty()) {
        System.out.println(name + ": broken variant caught on attempt " + attempt + ": " + caught.get(0));
        return;
      }
    }
    throw new AssertionError(name + ": the check did not catch the broken variant in "
        + BROKEN_ATTEMPTS + " attempts");
  }

  @Test
  void c1SingleFlight() throws Exception {
    holdsForRealAndCatchesBroken("C1 single flight", (cacheOf, random) -> {
      Factory factory = new Factory();
      factory.latencyNanos = TimeUnit.MICROSECONDS.toNanos(200);
      AtomicLong versions = new AtomicLong();
      try (RepoCache cache = cacheOf.apply(factory)) {
        Workers.run(THREADS, worker -> {
          List<CompletableFuture<?>> pending = new ArrayList<>();
          for (int i = 0; i < 40; i++) {
            long v = versions.incrementAndGet();
            pending.add(cache.upsert("key-" + (v % 2), versioned(v), v));
          }
          CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        });
      }
      return factory.maxInFlightPerKey.get() <= 1 ? List.of()
          : List.of(factory.maxInFlightPerKey.get() + " builds of one key ran at once");
    }, RepoCache::withoutSingleFlight);
  }

  @Test
  void c2MonotonicUnderReordering() throws Exception {
    holdsForRealAndCatchesBroken("C2 monotonic", (cacheOf, random) -> {
      Factory factory = new Factory();
      factory.latencyNanos = TimeUnit.MICROSECONDS.toNanos(20);
      List<Long> order = new ArrayList<>();
      for (long v = 1; v <= 200; v++) {
        order.add(v);
      }
      Collections.shuffle(order, new java.util.Random(random.nextLong()));
      Queue<String> violations = new ConcurrentLinkedQueue<>();
      AtomicBoolean writing = new AtomicBoolean(true);
      try (RepoCache cache = cacheOf.apply(factory)) {
        cache.upsert("redis", versioned(0), 0).get(30, TimeUnit.SECONDS);
        Workers.run(THREADS, worker -> {
          if (worker < 2) {
            for (int i = worker; i < order.size(); i += 2) {
              cache.upsert("redis", versioned(order.get(i)), order.get(i));
            }
            writing.set(false);
            return;
          }
          long last = -1;
          while (writing.get()) {
            try (Lease<Client> lease = cache.acquire("redis")) {
              long seen = versionOf(lease.get());
              if (seen < last) {
                violations.add(Thread.currentThread().getName() + " saw v" + seen + " after v" + last);
              }
              last = seen;
            }
          }
        });
        cache.upsert("redis", versioned(order.size()), order.size()).get(30, TimeUnit.SECONDS);
        try (Lease<Client> lease = cache.acquire("redis")) {
          if (versionOf(lease.get()) != order.size()) {
            violations.add("after quiescence served v" + versionOf(lease.get()) + ", newest is v"
                + order.size());
          }
        }
      }
      return List.copyOf(violations);
    }, RepoCache::lastArrivalWins);
  }

  @Test
  void c3CoalescesUpdatesDuringABuild() throws Exception {
    holdsForRealAndCatchesBroken("C3 coalescing", (cacheOf, random) -> {
      Factory factory = new Factory();
      factory.gate = new CountDownLatch(1);
      AtomicLong versions = new AtomicLong();
      int perThread = 100 + random.nextInt(150);
      List<CompletableFuture<?>> all = Collections.synchronizedList(new ArrayList<>());
      try (RepoCache cache = cacheOf.apply(factory)) {
        Workers.run(THREADS, worker -> {
          for (int i = 0; i < perThread; i++) {
            long v = versions.incrementAndGet();
            all.add(cache.upsert("redis", versioned(v), v));
          }
        });
        factory.gate.countDown();
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        long served;
        try (Lease<Client> lease = cache.acquire("redis")) {
          served = versionOf(lease.get());
        }
        List<String> violations = new ArrayList<>();
        if (factory.calls("redis") > 2) {
          violations.add(versions.get() + " updates during one build caused "
              + factory.calls("redis") + " builds");
        }
        if (served != versions.get()) {
          violations.add("served v" + served + " after quiescence, newest is v" + versions.get());
        }
        return violations;
      }
    }, RepoCache::rebuildPerUpdate);
  }

  @Test
  void c4ReadYourWrites() throws Exception {
    holdsForRealAndCatchesBroken("C4 read-your-writes", (cacheOf, random) -> {
      Factory factory = new Factory();
      factory.latencyNanos = TimeUnit.MICROSECONDS.toNanos(50 + random.nextInt(200));
      AtomicLong versions = new AtomicLong();
      Queue<String> violations = new ConcurrentLinkedQueue<>();
      try (RepoCache cache = cacheOf.apply(factory)) {
        Workers.run(THREADS, worker -> {
          for (int i = 0; i < 30; i++) {
            long v = versions.incrementAndGet();
            cache.upsert("redis", versioned(v), v).get(30, TimeUnit.SECONDS);
            try (Lease<Client> lease = cache.acquire("redis")) {
              long seen = versionOf(lease.get());
              if (seen < v) {
                violations.add("upsert of v" + v + " completed, then a read got v" + seen);
              }
            } catch (NoSuchElementException notYet) {
              violations.add("upsert of v" + v + " completed, then the key was not there");
            }
          }
        });
      }
      return List.copyOf(violations);
    }, RepoCache::completesEarly);
  }

  @Test
  void c6NoClientIsClosedWhileLeasedAndEachIsClosedOnce() throws Exception {
    holdsForRealAndCatchesBroken("C6 disposal", (cacheOf, random) -> {
      Factory factory = new Factory();
      AtomicLong versions = new AtomicLong();
      AtomicBoolean writing = new AtomicBoolean(true);
      Queue<String> violations = new ConcurrentLinkedQueue<>();
      int updates = 100 + random.nextInt(100);
      try (RepoCache cache = cacheOf.apply(factory)) {
        cache.upsert("redis", versioned(0), 0).get(30, TimeUnit.SECONDS);
        Workers.run(THREADS, worker -> {
          if (worker == 0) {
            for (int i = 0; i < updates; i++) {
              long v = versions.incrementAndGet();
              cache.upsert("redis", versioned(v), v);
            }
            writing.set(false);
            return;
          }
          while (writing.get()) {
            try (Lease<Client> lease = cache.acquire("redis")) {
              Client client = lease.get();
              for (int spin = 0; spin < 100; spin++) {
                Thread.onSpinWait();
              }
              if (client.closes.get() != 0) {
                violations.add(client + " was closed while " + lease.holder() + " held it");
              }
            }
          }
        });
      }
      for (Client client : List.copyOf(factory.built)) {
        if (client.closes.get() != 1) {
          violations.add(client + " was closed " + client.closes.get() + " times");
        }
      }
      return List.copyOf(violations);
    }, RepoCache::closesWhileLeased);
  }
}
