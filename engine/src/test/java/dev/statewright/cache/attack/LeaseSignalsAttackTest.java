package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.ClientUnavailableException;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Factory;
import dev.statewright.cache.attack.Kit.Spec;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.event.Versioned;
import dev.statewright.lifecycle.Transition;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attack on the lease's signals, public API only. Promises (ClientLease javadoc, C6, C10, C11,
 * C12): {@code isCurrent()} is true while the cache still serves the leased client and false, for
 * good, from the replacement or removal itself; a listener told of the change, or a reader handed
 * the new client, never finds a lease on the old one current; once {@code isCurrent()} said false,
 * {@code superseded()} asked afterwards is complete; the stage completes exactly once, normally,
 * never while the key still serves the client; a report against a replaced client returns false
 * and changes nothing; the closer runs once per client, after its last lease, never under an open
 * one; {@code openLeases()} and {@code retiredClientsInUse()} settle to exact counts.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LeaseSignalsAttackTest {
  private static final String LATE = "report after isCurrent() said false";
  private final Threads threads = new Threads();
  private final Queue<String> problems = new ConcurrentLinkedQueue<>();
  /** Leases open per client, as the test counts them: the closer must find none. */
  private final Map<Client, AtomicInteger> open = new ConcurrentHashMap<>();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    threads.close();
  }

  private <T extends AutoCloseable> T closing(T resource) {
    toClose.add(0, resource);
    return resource;
  }

  private void check(boolean ok, String what) {
    if (!ok) {
      problems.add(what);
    }
  }

  private ClientLease<Client> lease(ClientCache<String, Spec, Client> cache, String key) {
    ClientLease<Client> lease = cache.acquire(key);
    open.computeIfAbsent(lease.get(), c -> new AtomicInteger()).incrementAndGet();
    return lease;
  }

  private void release(ClientLease<Client> lease) {
    Client c = lease.get();
    open.get(c).decrementAndGet();
    lease.close();
  }

  /** A closer that finds no counted lease open on what it closes, and closes it. */
  private void closer(Client c) {
    AtomicInteger n = open.get(c);
    check(n == null || n.get() == 0, c + " closed under " + n + " open lease(s)");
    c.close();
  }

  private static boolean told(ClientLease<?> lease) {
    return lease.superseded().toCompletableFuture().isDone();
  }

  private static void barrier(CyclicBarrier b) {
    try {
      b.await(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ isCurrent racing the update

  private enum Kind { SPEC, DEPENDENCY, INVALIDATE, REPORT, DELETE, DELETE_READD, RESYNC_REMOVE,
    RESYNC_NEWER }

  /**
   * Round after round, one client is replaced or removed (eight ways) while two threads ask two of
   * its leases isCurrent() in a loop, a third watches the snapshot and a fourth acquires until it
   * is handed another client. Whoever sees the change first: a lease that said false never says
   * true again, its stage is complete when asked right after, a report through it returns false
   * and records nothing; a snapshot that shows the client no longer served, and a reader handed
   * the new client, find no lease on the old one current. Afterwards the client is closed once,
   * after its last lease, and the counts are exact.
   */
  @Test
  void isCurrentRacingTheReplacementFromManyThreadsNeverFlipsBackAndFalseMeansTold()
      throws Exception {
    SplittableRandom random = Seeds.random("isCurrentRacingTheReplacement");
    Events events = new Events();
    Factory factory = new Factory();
    ClientCache<String, Spec, Client> cache = closing(ClientCache.builder(factory)
        .name("attack-signals-race").scheduler(threads).listener(events)
        .backoff(Backoff.fixed(Duration.ofMillis(5))).closer(this::closer)
        .dependsOn(s -> List.of(s.secret())).build());
    int invalidations = 0;
    for (int round = 0; round < 300 && problems.isEmpty(); round++) {
      String key = "r" + round;
      Kind kind = Kind.values()[random.nextInt(Kind.values().length)];
      boolean askedBefore = random.nextBoolean();
      String at = "round " + round + " (" + kind + (askedBefore ? ", stage asked before" : "")
          + "): ";
      await(cache.upsert(key, Spec.of(1), 1));
      ClientLease<Client> lease = lease(cache, key);
      ClientLease<Client> sibling = lease(cache, key);
      Client old = lease.get();
      long generation = cache.snapshot(key).orElseThrow().generation();
      AtomicInteger toldCount = new AtomicInteger();
      if (askedBefore) {
        lease.superseded().thenRun(() -> {
          toldCount.incrementAndGet();
          check(!lease.isCurrent(), at + "a dependent of superseded() finds its lease current");
        });
      }
      AtomicBoolean stop = new AtomicBoolean();
      Workers.run(5, i -> {
        switch (i) {
          case 0 -> {
            replace(cache, key, kind, lease);
            try {
              lease.superseded().toCompletableFuture().get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
            } finally {
              stop.set(true);
            }
          }
          case 1, 2 -> spin(i == 1 ? lease : sibling, stop, at + "lease " + i + ": ");
          case 3 -> watchSnapshot(cache, key, generation, lease, stop, at);
          default -> readUntilNew(cache, key, old, lease, stop, at);
        }
      });
      if (kind == Kind.INVALIDATE || kind == Kind.REPORT) {
        invalidations++;
      }
      assertThat(lease.superseded().toCompletableFuture().get(Kit.WAIT.toSeconds(),
          TimeUnit.SECONDS)).isNull();
      assertThat(lease.isCurrent()).as(at + "after the change").isFalse();
      assertThat(sibling.isCurrent()).as(at + "sibling after the change").isFalse();
      assertThat(lease.reportFailure(new IllegalStateException(LATE))).isFalse();
      release(lease);
      assertThat(old.closes).as(at + "closed under the sibling's lease").hasValue(0);
      release(sibling);
      await(old.closed);
      assertThat(old.closes).as(at + "closes").hasValue(1);
      if (askedBefore) {
        assertThat(toldCount).as(at + "told").hasValue(1);
      }
      Snapshot<String, Spec, Client> s = cache.snapshot(key).orElseThrow();
      assertThat(s.retiredClientsInUse()).as(at + s).isZero();
      assertThat(s.openLeases()).as(at + s).isZero();
      assertThat(s.lastError().map(Throwable::getMessage)).as(at + "last error").isNotEqualTo(
          Optional.of(LATE));
      boolean removed = kind == Kind.DELETE || kind == Kind.RESYNC_REMOVE;
      assertThat(s.state()).as(at + s).isEqualTo(removed ? EntryState.REMOVED : EntryState.CURRENT);
      assertThat(s.generation()).as(at + "generation").isEqualTo(
          removed ? generation : generation + 1);
      if (!removed) {
        await(cache.delete(key, 100));
      }
      assertThat(problems).as(at + "problems").isEmpty();
    }
    events.awaitBuildsSettled();
    assertThat(problems).isEmpty();
    assertThat(events.count(EntryEvent.INVALIDATED)).as("invalidations, late reports included")
        .isEqualTo(invalidations);
    cache.close();
    factory.awaitAllClosed();
    assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes).as("%s", c).hasValue(1));
    assertThat(problems).isEmpty();
  }

  private void replace(ClientCache<String, Spec, Client> cache, String key, Kind kind,
      ClientLease<Client> lease) throws Exception {
    switch (kind) {
      case SPEC -> await(cache.upsert(key, Spec.of(2), 2));
      case DEPENDENCY -> await(cache.dependencyChanged(Spec.of(1).secret()));
      case INVALIDATE -> assertThat(cache.invalidate(key, new IllegalStateException("401")))
          .isTrue();
      case REPORT -> {
        try (ClientLease<Client> reporter = cache.acquire(key)) {
          assertThat(reporter.get()).isSameAs(lease.get());
          assertThat(reporter.reportFailure(new IllegalStateException("refused"))).isTrue();
        }
      }
      case DELETE -> await(cache.delete(key, 2));
      case DELETE_READD -> {
        await(cache.delete(key, 2));
        await(cache.upsert(key, Spec.of(3), 3));
      }
      case RESYNC_REMOVE -> cache.resync(Map.of(), 2);
      default -> cache.resync(Map.of(key, new Versioned<>(Spec.of(2), 2)), 2);
    }
  }

  private void spin(ClientLease<Client> lease, AtomicBoolean stop, String at) {
    while (true) {
      boolean stopping = stop.get();
      if (!lease.isCurrent()) {
        check(told(lease), at + "isCurrent() false but superseded() not complete");
        check(!lease.reportFailure(new IllegalStateException(LATE)),
            at + "reportFailure returned true after isCurrent() said false");
        for (int j = 0; j < 200; j++) {
          check(!lease.isCurrent(), at + "isCurrent() true again after false");
        }
        return;
      }
      if (stopping) {
        problems.add(at + "still current after the change and its stage completed");
        return;
      }
    }
  }

  private void watchSnapshot(ClientCache<String, Spec, Client> cache, String key, long generation,
      ClientLease<Client> lease, AtomicBoolean stop, String at) {
    while (true) {
      boolean stopping = stop.get();
      Optional<Snapshot<String, Spec, Client>> s = cache.snapshot(key);
      boolean gone = s.isEmpty() || s.get().state() == EntryState.REMOVED
          || s.get().generation() != generation || s.get().servedVersion().isEmpty();
      if (gone) {
        boolean current = lease.isCurrent();
        check(!current, at + "snapshot " + s + " (generation " + s.map(Snapshot::generation)
            + ") no longer serves the client, yet its lease is current");
        check(current || told(lease), at + "after the snapshot, isCurrent() false, stage not "
            + "complete");
        return;
      }
      if (stopping) {
        return;
      }
    }
  }

  private void readUntilNew(ClientCache<String, Spec, Client> cache, String key, Client old,
      ClientLease<Client> lease, AtomicBoolean stop, String at) {
    while (!stop.get()) {
      ClientLease<Client> now;
      try {
        now = cache.acquire(key);
      } catch (NoSuchElementException | ClientUnavailableException gone) {
        continue;
      }
      try (now) {
        if (now.get() != old) {
          boolean current = lease.isCurrent();
          check(!current, at + "a reader handed " + now.get() + " finds the lease on " + old
              + " current");
          check(current || told(lease), at + "reader: isCurrent() false, stage not complete");
          return;
        }
      }
    }
  }

  // ------------------------------------------------------------------ a listener told of it

  /**
   * A listener told of the transition that replaced or removed a client (BUILD_SUCCEEDED of a
   * spec or dependency change, an invalidation, a report or a refresh; BUILD_SUPERSEDED; DELETED
   * by a delete, a resync or close(); CLIENT_EXPIRED) finds no lease on it current, whether its
   * stage was asked for before or never, and finds the stage complete right after.
   */
  @Test
  void aListenerToldOfAnyReplacementOrRemovalFindsNoLeaseOnTheOldClientCurrent()
      throws Exception {
    ClockedThreads clock = closing(new ClockedThreads(5));
    Map<String, List<ClientLease<Client>>> watched = new ConcurrentHashMap<>();
    Set<EntryEvent> ending = EnumSet.of(EntryEvent.BUILD_SUCCEEDED, EntryEvent.BUILD_SUPERSEDED,
        EntryEvent.DELETED, EntryEvent.CLIENT_EXPIRED);
    Queue<String> heard = new ConcurrentLinkedQueue<>();
    Events events = new Events() {
      @Override
      public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
        List<ClientLease<Client>> leases = watched.get(key);
        if (leases != null && ending.contains(t.event())) {
          for (ClientLease<Client> l : leases) {
            boolean current = l.isCurrent();
            heard.add(key + " " + t.event());
            check(!current, key + ": told " + t + ", a lease on " + l.get() + " is current");
            check(current || told(l), key + ": told " + t + ", not current, stage not complete");
          }
        }
        super.onTransition(key, t);
      }
    };
    AtomicBoolean failing = new AtomicBoolean();
    CountDownLatch gateEntered = new CountDownLatch(1);
    CountDownLatch gate = new CountDownLatch(1);
    Factory factory = new Factory() {
      @Override
      public Client build(String key, Spec spec) throws Exception {
        if (failing.get()) {
          throw new IllegalStateException("registry down");
        }
        if (key.equals("superseded") && spec.v() == 2) {
          gateEntered.countDown();
          gate.await();
        }
        return super.build(key, spec);
      }
    };
    ClientCache<String, Spec, Client> cache = closing(ClientCache.builder(factory)
        .name("attack-signals-listener").scheduler(clock).listener(events).closer(this::closer)
        .backoff(Backoff.fixed(Duration.ofSeconds(1))).acquireTimeout(Duration.ofSeconds(20))
        .expiry((s, c) -> Duration.ofSeconds(10)).dependsOn(s -> List.of("dep-" + s.secret()))
        .build());
    String[] scenarios = {"spec", "dependency", "invalidate", "report", "delete", "resync",
        "superseded", "refresh", "expired"};
    int successes = 0;
    for (String key : scenarios) {
      await(cache.upsert(key, Spec.of(1), 1));
      events.await(EntryEvent.BUILD_SUCCEEDED, ++successes); // told of the build: not a change
      ClientLease<Client> asked = lease(cache, key);
      ClientLease<Client> unasked = lease(cache, key);
      Client old = asked.get();
      CompletableFuture<Void> stage = asked.superseded().toCompletableFuture();
      watched.put(key, List.of(asked, unasked));
      int before = heard.size();
      switch (key) {
        case "spec" -> await(cache.upsert(key, Spec.of(2), 2));
        case "dependency" -> await(cache.dependencyChanged("dep-" + Spec.of(1).secret()));
        case "invalidate" -> assertThat(cache.invalidate(key, new IllegalStateException("401")))
            .isTrue();
        case "report" -> assertThat(unasked.reportFailure(new IllegalStateException("x"))).isTrue();
        case "delete" -> await(cache.delete(key, 2));
        case "resync" -> {
          Map<String, Versioned<Spec>> others = new ConcurrentHashMap<>();
          for (Snapshot<String, Spec, Client> s : cache.list()) {
            if (!s.key().equals(key)) {
              others.put(s.key(), new Versioned<>(s.desiredSpec(), s.desiredVersion()));
            }
          }
          cache.resync(others, 1);
        }
        case "superseded" -> {
          CompletableFuture<?> two = cache.upsert(key, Spec.of(2), 2);
          assertThat(gateEntered.await(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
          CompletableFuture<?> three = cache.upsert(key, Spec.of(3), 3);
          gate.countDown();
          await(two);
          await(three);
          events.await(EntryEvent.BUILD_SUPERSEDED, 1); // v2's client; v3's build follows
        }
        case "refresh" -> clock.advance(Duration.ofSeconds(8)); // refreshAhead 0.8 of 10 s
        default -> {
          failing.set(true);
          int failed = events.count(EntryEvent.BUILD_FAILED);
          clock.advance(Duration.ofSeconds(8)); // the refresh fails
          events.await(EntryEvent.BUILD_FAILED, failed + 1);
          check(asked.isCurrent(), key + ": current before its expiry");
          clock.advance(Duration.ofSeconds(2));
          events.await(EntryEvent.CLIENT_EXPIRED, 1);
          failing.set(false);
        }
      }
      await(stage);
      assertThat(unasked.superseded().toCompletableFuture().get(Kit.WAIT.toSeconds(),
          TimeUnit.SECONDS)).isNull();
      if (!key.equals("delete") && !key.equals("resync") && !key.equals("expired")) {
        events.await(EntryEvent.BUILD_SUCCEEDED, ++successes);
      }
      assertThat(asked.isCurrent()).as(key).isFalse();
      assertThat(unasked.isCurrent()).as(key).isFalse();
      watched.remove(key);
      assertThat(heard.size()).as(key + ": the listener checked the leases").isGreaterThan(before);
      release(asked);
      release(unasked);
      await(old.closed);
      assertThat(old.closes).as(key).hasValue(1);
      assertThat(problems).as(key).isEmpty();
      if (!key.equals("delete") && !key.equals("resync")) { // its timers must not touch the next
        await(cache.delete(key, 100));
      }
    }
    // close(): every live key's leases, told of DELETED
    List<ClientLease<Client>> last = new ArrayList<>();
    for (String key : new String[] {"c1", "c2", "c3"}) {
      await(cache.upsert(key, Spec.of(1), 1));
      events.await(EntryEvent.BUILD_SUCCEEDED, ++successes);
      ClientLease<Client> l = lease(cache, key);
      last.add(l);
      watched.put(key, List.of(l));
    }
    int before = heard.size();
    cache.close();
    for (ClientLease<Client> l : last) {
      assertThat(told(l)).as("told by the time close() returned").isTrue();
      assertThat(l.isCurrent()).isFalse();
      release(l);
    }
    assertThat(heard.size() - before).isEqualTo(3);
    factory.awaitAllClosed();
    assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes).as("%s", c).hasValue(1));
    assertThat(problems).isEmpty();
  }

  // ------------------------------------------------------------------ from inside callbacks

  /**
   * isCurrent() asked from the factory building the replacement, the listener of SPEC_CHANGED
   * (both while the key still serves the old client: current, stage not complete), a superseded()
   * dependent, the closer and onClientReleased (not current, stage complete; a lease on the new
   * client current), and a closed lease (false after the change, without disturbing the counts).
   */
  @Test
  void isCurrentAskedFromInsideEveryCallbackAnswersAsTheKeyServes() throws Exception {
    AtomicReference<ClientLease<Client>> oldLease = new AtomicReference<>();
    AtomicReference<ClientLease<Client>> closedLease = new AtomicReference<>();
    AtomicReference<ClientLease<Client>> newLease = new AtomicReference<>();
    AtomicInteger asked = new AtomicInteger();
    Factory factory = new Factory() {
      @Override
      public Client build(String key, Spec spec) throws Exception {
        ClientLease<Client> l = oldLease.get();
        if (l != null && spec.v() == 2) {
          asked.incrementAndGet();
          check(l.isCurrent(), "factory building v2: the lease on v1 is not current");
          check(!told(l), "factory building v2: the stage of v1 completed");
        }
        return super.build(key, spec);
      }
    };
    CacheListener<String> listener = new CacheListener<>() {
      @Override
      public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
        ClientLease<Client> l = oldLease.get();
        if (l != null && t.event() == EntryEvent.SPEC_CHANGED) {
          asked.incrementAndGet();
          check(l.isCurrent(), "told SPEC_CHANGED: the lease on v1 is not current");
          check(!told(l), "told SPEC_CHANGED: the stage of v1 completed");
        }
      }

      @Override
      public void onClientReleased(String key, long version) {
        insideRelease("onClientReleased(v" + version + ")", version);
      }

      private void insideRelease(String where, long version) {
        ClientLease<Client> l = oldLease.get();
        if (l != null && version == 1) {
          asked.incrementAndGet();
          check(!l.isCurrent(), where + ": the closed lease on v1 is current");
          check(told(l), where + ": the stage of v1 is not complete");
          ClientLease<Client> fresh = newLease.get();
          check(fresh == null || fresh.isCurrent(), where + ": the lease on v2 is not current");
        }
      }
    };
    ClientCache<String, Spec, Client> cache = closing(ClientCache.builder(factory)
        .name("attack-signals-inside").scheduler(threads).listener(listener)
        .closer(c -> {
          ClientLease<Client> l = oldLease.get();
          if (l != null && c.spec.v() == 1) {
            asked.incrementAndGet();
            check(!l.isCurrent(), "closer: the closed lease on " + c + " is current");
            check(!closedLease.get().isCurrent(), "closer: the lease closed early is current");
            ClientLease<Client> fresh = newLease.get();
            check(fresh == null || fresh.isCurrent(), "closer: the lease on v2 is not current");
          }
          closer(c);
        }).build());
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> early = lease(cache, "k");
    release(early); // closed before the change: asked after it, it says false too
    assertThat(early.isCurrent()).as("a closed lease on the client still served").isTrue();
    closedLease.set(early);
    ClientLease<Client> l = lease(cache, "k");
    AtomicInteger inside = new AtomicInteger();
    l.superseded().thenRun(() -> {
      inside.incrementAndGet();
      check(!l.isCurrent(), "dependent: its lease is current");
      check(!early.isCurrent(), "dependent: the closed lease is current");
      AtomicBoolean nested = new AtomicBoolean();
      l.superseded().thenRun(() -> nested.set(true)); // complete: runs here and now
      check(nested.get(), "dependent: a dependent added to the complete stage did not run");
    });
    oldLease.set(l);
    await(cache.upsert("k", Spec.of(2), 2));
    assertThat(early.isCurrent()).as("a closed lease after its client was replaced").isFalse();
    ClientLease<Client> fresh = lease(cache, "k");
    newLease.set(fresh);
    await(l.superseded().toCompletableFuture());
    assertThat(inside).hasValue(1);
    Snapshot<String, Spec, Client> s = cache.snapshot("k").orElseThrow();
    assertThat(s.openLeases()).isOne();
    assertThat(s.retiredClientsInUse()).isOne();
    Client old = l.get();
    release(l);
    await(old.closed);
    assertThat(old.closes).hasValue(1);
    s = cache.snapshot("k").orElseThrow();
    assertThat(s.openLeases()).isOne();
    assertThat(s.retiredClientsInUse()).isZero();
    assertThat(fresh.isCurrent()).isTrue();
    assertThat(asked.get()).as("factory, SPEC_CHANGED, closer, onClientReleased").isEqualTo(4);
    release(fresh);
    assertThat(problems).isEmpty();
  }

  // ------------------------------------------------------------------ the help path

  /**
   * The listener of BUILD_SUCCEEDED asks isCurrent() of leases on the replaced client: the update
   * has not told them yet, so isCurrent() completes the stage itself and its dependents run on the
   * listener's thread. Those dependents throw, ask isCurrent() again, close every lease on the old
   * client (its last), acquire the new client, and delete the key or close the cache: isCurrent()
   * neither throws nor recurses, the old client is closed once, after its last lease, by whoever
   * retires it, and the counts are exact.
   */
  @Test
  void dependentsRunByIsCurrentsHelpThrowCloseTheLastLeaseAndReenterTheCache() throws Exception {
    for (String last : new String[] {"nothing", "delete", "close"}) {
      Factory factory = new Factory();
      Map<String, List<ClientLease<Client>>> watched = new ConcurrentHashMap<>();
      AtomicReference<ClientCache<String, Spec, Client>> self = new AtomicReference<>();
      ClientCache<String, Spec, Client> cache = ClientCache.builder(factory)
          .name("attack-signals-help").scheduler(threads).closer(this::closer)
          .listener(new CacheListener<>() {
            @Override
            public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
              List<ClientLease<Client>> leases = watched.remove(key);
              if (leases != null && t.event() == EntryEvent.BUILD_SUCCEEDED) {
                for (ClientLease<Client> l : leases) {
                  try {
                    check(!l.isCurrent(), last + ": told " + t + ", " + l.get() + " current");
                  } catch (Throwable e) {
                    problems.add(last + ": isCurrent() threw " + e);
                  }
                }
              }
            }
          }).build();
      self.set(cache);
      try {
        await(cache.upsert("k", Spec.of(1), 1));
        ClientLease<Client> a = lease(cache, "k");
        ClientLease<Client> b = lease(cache, "k");
        Client old = a.get();
        AtomicInteger ran = new AtomicInteger();
        CompletableFuture<Void> afterAll = new CompletableFuture<>();
        a.superseded().thenRun(() -> {
          ran.incrementAndGet();
          throw new IllegalStateException("a dependent that throws");
        });
        a.superseded().thenRun(() -> {
          ran.incrementAndGet();
          throw new StackOverflowError("a dependent that throws an Error");
        });
        b.superseded().thenRun(() -> {
          ran.incrementAndGet();
          check(!a.isCurrent() && !b.isCurrent(), last + ": asked again in a dependent: current");
          check(!a.reportFailure(new IllegalStateException(LATE)),
              last + ": a report from a dependent marked the replaced client");
          release(a);
          release(b);
          check(old.closes.get() == 0 || !cache.snapshot("k").map(s -> s.state()
              == EntryState.CURRENT && s.retiredClientsInUse() > 0).orElse(false),
              last + ": counts a retired client already closed");
          try (ClientLease<Client> now = self.get().acquire("k")) {
            check(now.get() != old && now.isCurrent(), last + ": re-acquired " + now.get());
          } catch (RuntimeException e) {
            problems.add(last + ": re-acquire from a dependent threw " + e);
          }
          switch (last) {
            case "delete" -> self.get().delete("k", 3);
            case "close" -> self.get().close();
            default -> { }
          }
          afterAll.complete(null);
        });
        watched.put("k", List.of(a, b));
        await(cache.upsert("k", Spec.of(2), 2));
        await(afterAll);
        assertThat(ran).as(last).hasValue(3);
        await(old.closed);
        assertThat(old.closes).as(last).hasValue(1);
        if (last.equals("nothing")) {
          Snapshot<String, Spec, Client> s = cache.snapshot("k").orElseThrow();
          assertThat(s.retiredClientsInUse()).as(last + " " + s).isZero();
          assertThat(s.openLeases()).as(last + " " + s).isZero();
          assertThat(s.generation()).isEqualTo(2);
          assertThat(s.lastError()).isEmpty();
        }
        assertThat(problems).as(last).isEmpty();
      } finally {
        cache.close();
      }
      factory.awaitAllClosed();
      assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes).as("%s", c).hasValue(1));
    }
  }

  /**
   * A superseded() dependent run by isCurrent()'s help blocks: another thread asking a sibling
   * lease isCurrent() answers false at once and finds the stage complete, and another key builds
   * meanwhile (one permit in all).
   */
  @Test
  void aBlockingDependentRunByTheHelpStallsNeitherTheSiblingNorAnotherKey() throws Exception {
    Factory factory = new Factory();
    AtomicReference<ClientLease<Client>> watched = new AtomicReference<>();
    CompletableFuture<Boolean> listenerAnswer = new CompletableFuture<>();
    ClientCache<String, Spec, Client> cache = closing(ClientCache.builder(factory)
        .name("attack-signals-block").scheduler(threads).maxConcurrentBuilds(1)
        .closer(this::closer).listener(new CacheListener<>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            ClientLease<Client> l = watched.get();
            if (l != null && key.equals("a") && t.event() == EntryEvent.BUILD_SUCCEEDED) {
              watched.set(null);
              listenerAnswer.complete(l.isCurrent());
            }
          }
        }).build());
    await(cache.upsert("a", Spec.of(1), 1));
    ClientLease<Client> a = lease(cache, "a");
    ClientLease<Client> sibling = lease(cache, "a");
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    a.superseded().thenRun(() -> {
      entered.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    watched.set(a);
    CompletableFuture<?> replacing = cache.upsert("a", Spec.of(2), 2);
    try {
      assertThat(entered.await(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Boolean> siblingAnswer = CompletableFuture.supplyAsync(
          sibling::isCurrent, threads::execute);
      assertThat(siblingAnswer.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isFalse();
      assertThat(told(sibling)).isTrue();
      assertThat(sibling.reportFailure(new IllegalStateException(LATE))).isFalse();
      await(cache.upsert("b", Spec.of(1), 1));
      try (ClientLease<Client> b = cache.acquire("b")) {
        assertThat(b.isCurrent()).isTrue();
      }
    } finally {
      release.countDown();
    }
    assertThat(await(listenerAnswer)).isFalse();
    await(replacing);
    Client old = a.get();
    release(a);
    release(sibling);
    await(old.closed);
    assertThat(cache.snapshot("a").orElseThrow().retiredClientsInUse()).isZero();
    assertThat(cache.snapshot("a").orElseThrow().lastError()).isEmpty();
    assertThat(problems).isEmpty();
  }

  // ------------------------------------------------------------------ close() racing isCurrent()

  /**
   * Threads ask leases on many keys isCurrent() while the cache closes: a lease that said false
   * never says true again and its stage is complete; once close() returned, every lease is told
   * and not current; every client is closed once, after its last lease.
   */
  @Test
  void closingTheCacheRacingIsCurrentTellsEveryLeaseOnce() throws Exception {
    SplittableRandom random = Seeds.random("closingTheCacheRacingIsCurrent");
    for (int round = 0; round < 100; round++) {
      Factory factory = new Factory();
      ClientCache<String, Spec, Client> cache = ClientCache.builder(factory)
          .name("attack-signals-close").scheduler(threads).closer(this::closer).build();
      int keys = 1 + random.nextInt(8);
      List<ClientLease<Client>> leases = new ArrayList<>();
      List<AtomicInteger> told = new ArrayList<>();
      for (int k = 0; k < keys; k++) {
        await(cache.upsert("k" + k, Spec.of(1), 1));
        for (int n = random.nextInt(3); n >= 0; n--) {
          ClientLease<Client> l = lease(cache, "k" + k);
          leases.add(l);
          if (random.nextBoolean()) {
            AtomicInteger count = new AtomicInteger();
            told.add(count);
            l.superseded().thenRun(count::incrementAndGet);
          }
        }
      }
      String at = "round " + round + ": ";
      AtomicBoolean closed = new AtomicBoolean();
      Workers.run(3, i -> {
        if (i == 0) {
          cache.close();
          closed.set(true);
          for (ClientLease<Client> l : leases) {
            check(told(l), at + "not told once close() returned");
            check(!l.isCurrent(), at + "current once close() returned");
          }
        } else {
          int from = i == 1 ? 0 : leases.size() / 2;
          for (int j = from; !closed.get() || j < from + leases.size(); j++) {
            ClientLease<Client> l = leases.get(j % leases.size());
            if (!l.isCurrent()) {
              check(told(l), at + "not current, stage not complete");
            }
          }
        }
      });
      for (ClientLease<Client> l : leases) {
        assertThat(l.isCurrent()).isFalse();
        assertThat(l.reportFailure(new IllegalStateException(LATE))).isFalse();
        assertThat(l.get().isClosed()).as(at + "closed under its lease").isFalse();
        release(l);
      }
      assertThat(told).allSatisfy(c -> assertThat(c).as(at).hasValue(1));
      factory.awaitAllClosed();
      assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes).as(at).hasValue(1));
      assertThat(problems).as(at).isEmpty();
    }
  }

  // ------------------------------------------------------------------ 10,000 keys

  /**
   * 10,000 keys, each with a lease; four threads ask them isCurrent() while every key is replaced,
   * then while a resync removes half. No lease flips back, a false one is told, and the counts of
   * every key settle exactly.
   */
  @Test
  void tenThousandKeysEachWithALeaseAskedWhileAllAreReplaced() throws Exception {
    int keys = 10_000;
    Factory factory = new Factory();
    ClientCache<String, Spec, Client> cache = closing(ClientCache.builder(factory)
        .name("attack-signals-10k").scheduler(threads).maxConcurrentBuilds(4)
        .closer(this::closer).build());
    List<CompletableFuture<?>> up = new ArrayList<>();
    for (int i = 0; i < keys; i++) {
      up.add(cache.upsert("key-" + i, Spec.of(1), 1));
    }
    CompletableFuture.allOf(up.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    List<ClientLease<Client>> leases = new ArrayList<>();
    for (int i = 0; i < keys; i++) {
      leases.add(lease(cache, "key-" + i));
    }
    for (int phase = 0; phase < 2; phase++) {
      int p = phase;
      AtomicBoolean done = new AtomicBoolean();
      boolean[][] sawFalse = new boolean[3][keys];
      Workers.run(4, i -> {
        if (i == 0) {
          try {
            if (p == 0) {
              List<CompletableFuture<?>> replaced = new ArrayList<>();
              for (int k = 0; k < keys; k++) {
                replaced.add(cache.upsert("key-" + k, Spec.of(2), 2));
              }
              CompletableFuture.allOf(replaced.toArray(CompletableFuture[]::new))
                  .get(60, TimeUnit.SECONDS);
            } else {
              Map<String, Versioned<Spec>> odd = new ConcurrentHashMap<>();
              for (int k = 1; k < keys; k += 2) {
                odd.put("key-" + k, new Versioned<>(Spec.of(2), 2));
              }
              cache.resync(odd, 3);
            }
          } finally {
            done.set(true);
          }
        } else {
          boolean[] seen = sawFalse[i - 1];
          for (int k = (i - 1) * 3331; !done.get(); k = (k + 7) % keys) {
            ClientLease<Client> l = leases.get(k);
            boolean current = l.isCurrent();
            if (!current) {
              seen[k] = true;
              check(told(l), "phase " + p + ", key-" + k + ": not current, not told");
              check(p == 0 || k % 2 == 0, "key-" + k + ": kept by the resync, not current");
            } else if (seen[k]) {
              problems.add("phase " + p + ", key-" + k + ": current again after false");
            }
          }
        }
      });
      assertThat(problems).isEmpty();
      for (int k = 0; k < keys; k++) {
        boolean kept = phase == 1 && k % 2 == 1;
        assertThat(leases.get(k).isCurrent()).as("phase %d, key-%d", phase, k).isEqualTo(kept);
        assertThat(told(leases.get(k))).as("phase %d, key-%d", phase, k).isEqualTo(!kept);
      }
      if (phase == 0) {
        List<Snapshot<String, Spec, Client>> all = cache.list();
        assertThat(all.stream().mapToInt(Snapshot::retiredClientsInUse).sum()).isEqualTo(keys);
        assertThat(all.stream().mapToInt(Snapshot::openLeases).sum()).isZero();
        for (ClientLease<Client> l : leases) {
          release(l);
        }
        leases.clear();
        all = cache.list();
        assertThat(all.stream().mapToInt(Snapshot::retiredClientsInUse).sum()).isZero();
        for (int i = 0; i < keys; i++) {
          leases.add(lease(cache, "key-" + i));
        }
        assertThat(cache.list().stream().mapToInt(Snapshot::openLeases).sum()).isEqualTo(keys);
      }
    }
    for (ClientLease<Client> l : leases) {
      release(l);
    }
    assertThat(cache.list()).hasSize(keys / 2).allSatisfy(s -> {
      assertThat(s.openLeases()).isZero();
      assertThat(s.retiredClientsInUse()).isZero();
    });
    for (int k = 0; k < keys; k += 2) {
      assertThat(cache.snapshot("key-" + k).orElseThrow().retiredClientsInUse()).isZero();
    }
    cache.close();
    factory.awaitAllClosed();
    assertThat(factory.built()).hasSize(2 * keys)
        .allSatisfy(c -> assertThat(c.closes).as("%s", c).hasValue(1));
    assertThat(problems).isEmpty();
  }

  // ------------------------------------------------------------------ expiry, timers held back

  /**
   * Real workers under a clock the test moves; timers fire only when the test says so, so a reader
   * can find a client over before its expiry timer ran.
   */
  private static final class HeldClock implements Scheduler, AutoCloseable {
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "held-clock-worker");
      t.setDaemon(true);
      return t;
    });
    private final List<long[]> due = new ArrayList<>();
    private final List<Runnable> tasks = new ArrayList<>();
    private long now = 77;

    @Override
    public synchronized long nanoTime() {
      return now;
    }

    @Override
    public void execute(Runnable task) {
      workers.execute(task);
    }

    @Override
    public synchronized Cancellable schedule(Runnable task, Duration delay) {
      if (delay.isZero() || delay.isNegative()) { // "as soon as possible", as the contract says
        AtomicBoolean cancelled = new AtomicBoolean();
        workers.execute(() -> {
          if (!cancelled.get()) {
            task.run();
          }
        });
        return () -> cancelled.set(true);
      }
      long[] at = {now + delay.toNanos(), 0};
      due.add(at);
      tasks.add(task);
      return () -> at[1] = 1;
    }

    synchronized void move(Duration d) {
      now += d.toNanos();
    }

    /** Hands every timer due by now to the workers. */
    void fire() {
      List<Runnable> run = new ArrayList<>();
      synchronized (this) {
        for (int i = due.size() - 1; i >= 0; i--) {
          if (due.get(i)[0] <= now) {
            if (due.get(i)[1] == 0) {
              run.add(tasks.get(i));
            }
            due.remove(i);
            tasks.remove(i);
          }
        }
      }
      run.forEach(workers::execute);
    }

    @Override
    public void close() {
      workers.shutdownNow();
    }
  }

  /**
   * C12: an expired client "is dropped from the entry (by its timer, or by the first reader that
   * finds it over)". Its timer held back, a reader finds it over: from then on the lease on it is
   * not current and its stage complete, a report through it returns false, and a listener told of
   * CLIENT_EXPIRED finds it not current. Once a replacement is served the client is closed, once,
   * after its last lease.
   */
  @Test
  void aClientAReaderFindsExpiredBeforeItsTimerIsNoLongerCurrentAndItsLeaseIsTold()
      throws Exception {
    HeldClock clock = closing(new HeldClock());
    AtomicBoolean failing = new AtomicBoolean();
    AtomicReference<ClientLease<Client>> watched = new AtomicReference<>();
    Events events = new Events() {
      @Override
      public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
        ClientLease<Client> l = watched.get();
        if (l != null && t.event() == EntryEvent.CLIENT_EXPIRED) {
          boolean current = l.isCurrent();
          check(!current, "told " + t + ": the lease on the expired client is current");
          check(current || told(l), "told " + t + ": not current, stage not complete");
        }
        super.onTransition(key, t);
      }
    };
    Factory factory = new Factory() {
      @Override
      public Client build(String key, Spec spec) throws Exception {
        if (failing.get()) {
          throw new IllegalStateException("registry down");
        }
        return super.build(key, spec);
      }
    };
    ClientCache<String, Spec, Client> cache = closing(ClientCache.builder(factory)
        .name("attack-signals-expiry").scheduler(clock).listener(events).closer(this::closer)
        .backoff(Backoff.fixed(Duration.ofSeconds(1))).acquireTimeout(Duration.ZERO)
        .expiry((s, c) -> Duration.ofSeconds(10)).build());
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> held = lease(cache, "k");
    Client old = held.get();
    watched.set(held);
    failing.set(true);
    clock.move(Duration.ofSeconds(8));
    clock.fire(); // the refresh is due, and fails
    events.await(EntryEvent.BUILD_FAILED, 1);
    assertThat(held.isCurrent()).as("before its expiry").isTrue();
    clock.move(Duration.ofSeconds(3)); // past its expiry and its retry; no timer runs
    assertThatThrownBy(() -> cache.acquire("k")).isInstanceOf(ClientUnavailableException.class);
    assertThat(held.isCurrent()).as("a reader found it over: the key serves it no more").isFalse();
    assertThat(told(held)).as("not current, so told").isTrue();
    assertThat(held.reportFailure(new IllegalStateException(LATE))).isFalse();
    assertThat(cache.snapshot("k").orElseThrow().servedVersion()).isEmpty();
    failing.set(false); // a build started before may still fail: its retry waits for a timer
    for (int i = 0; i < 10 && events.count(EntryEvent.BUILD_SUCCEEDED) < 2; i++) {
      clock.move(Duration.ofSeconds(2)); // every retry is due
      clock.fire(); // the expiry timer (too late now) and the retries
      events.awaitBuildsSettled();
    }
    events.await(EntryEvent.BUILD_SUCCEEDED, 2);
    try (ClientLease<Client> next = cache.acquire("k")) {
      assertThat(next.get()).isNotSameAs(old);
      assertThat(next.isCurrent()).isTrue();
    }
    Snapshot<String, Spec, Client> s = cache.snapshot("k").orElseThrow();
    assertThat(s.generation()).isEqualTo(2);
    assertThat(s.retiredClientsInUse()).isOne();
    assertThat(held.isCurrent()).isFalse();
    assertThat(old.isClosed()).as("closed under its lease").isFalse();
    release(held);
    await(old.closed);
    assertThat(old.closes).hasValue(1);
    s = cache.snapshot("k").orElseThrow();
    assertThat(s.retiredClientsInUse()).isZero();
    assertThat(s.openLeases()).isZero();
    assertThat(s.lastError().map(Throwable::getMessage)).isNotEqualTo(Optional.of(LATE));
    assertThat(problems).isEmpty();
  }

  /**
   * The same, with no reader: the clock is past the client's expiry, its timers held back. The key
   * serves it no more (C12: it "serves until t + L; from then on no acquire hands it out under any
   * Freshness"), so isCurrent() ("true while the cache still serves the leased client") says false,
   * its stage is complete right after, and the snapshot agrees: nothing served, one retired client
   * still leased. Before the fix isCurrent() said true until a timer or a reader dropped it.
   */
  @Test
  void aLeaseAskedPastItsClientsExpiryBeforeAnyTimerOrReaderIsNotCurrent() throws Exception {
    HeldClock clock = closing(new HeldClock());
    Events events = new Events();
    Factory factory = new Factory();
    ClientCache<String, Spec, Client> cache = closing(ClientCache.builder(factory)
        .name("attack-signals-expiry-unseen").scheduler(clock).listener(events)
        .closer(this::closer).acquireTimeout(Duration.ZERO).refreshAhead(0.5)
        .expiry((s, c) -> Duration.ofSeconds(10)).build());
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> held = lease(cache, "k");
    Client old = held.get();
    clock.move(Duration.ofMillis(9_999));
    assertThat(held.isCurrent()).as("1 ms before its expiry").isTrue();
    assertThat(told(held)).isFalse();
    clock.move(Duration.ofMillis(1)); // expired this instant; neither refresh nor expiry ran
    Snapshot<String, Spec, Client> before = cache.snapshot("k").orElseThrow();
    boolean current = held.isCurrent();
    boolean stage = told(held);
    Snapshot<String, Spec, Client> after = cache.snapshot("k").orElseThrow();
    assertThat(current).as("isCurrent() of a lease on an expired client; snapshot before %s "
        + "(generation %d, %d open), after %s", before, before.generation(), before.openLeases(),
        after).isFalse();
    assertThat(stage).as("its stage, right after isCurrent() said false").isTrue();
    assertThat(after.servedVersion().isEmpty() || after.generation() == 2)
        .as("served after isCurrent() said false: %s", after).isTrue();
    assertThat(after.retiredClientsInUse()).isOne();
    events.await(EntryEvent.CLIENT_EXPIRED, 1);
    assertThat(held.isCurrent()).isFalse();
    clock.fire(); // the refresh and the expiry, late: the refresh serves a new client
    events.await(EntryEvent.BUILD_SUCCEEDED, 2);
    assertThat(events.count(EntryEvent.CLIENT_EXPIRED)).isOne();
    assertThat(old.isClosed()).as("closed under its lease").isFalse();
    release(held);
    await(old.closed);
    assertThat(old.closes).hasValue(1);
    Snapshot<String, Spec, Client> s = cache.snapshot("k").orElseThrow();
    assertThat(s.generation()).isEqualTo(2);
    assertThat(s.retiredClientsInUse()).isZero();
    assertThat(problems).isEmpty();
  }

  /**
   * A report through a lease whose client's lifetime is over, its timers held back: the client is
   * served no more (C12), so the report returns false and records nothing (C11: "a report against
   * a client no longer served changes nothing"). Before the fix it marked the expired client
   * broken (INVALIDATED, its cause the key's last error) and returned true.
   */
  @Test
  void aReportPastTheClientsExpiryBeforeAnyTimerChangesNothing() throws Exception {
    HeldClock clock = closing(new HeldClock());
    Events events = new Events();
    Factory factory = new Factory();
    ClientCache<String, Spec, Client> cache = closing(ClientCache.builder(factory)
        .name("attack-signals-expiry-report").scheduler(clock).listener(events)
        .closer(this::closer).acquireTimeout(Duration.ZERO).refreshAhead(1.0)
        .expiry((s, c) -> Duration.ofSeconds(10)).build());
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> held = lease(cache, "k");
    clock.move(Duration.ofSeconds(10));
    assertThat(held.reportFailure(new IllegalStateException(LATE))).as("report past expiry")
        .isFalse();
    assertThat(events.count(EntryEvent.INVALIDATED)).isZero();
    assertThat(cache.snapshot("k").orElseThrow().lastError()).isEmpty();
    assertThat(held.isCurrent()).isFalse();
    assertThat(told(held)).isTrue();
    clock.fire();
    events.await(EntryEvent.BUILD_SUCCEEDED, 2);
    Client old = held.get();
    release(held);
    await(old.closed);
    assertThat(old.closes).hasValue(1);
    assertThat(problems).isEmpty();
  }

  /**
   * A closed lease asked isCurrent() and reportFailure() past its client's expiry, timers held
   * back, the client leased by nobody: false and false, its stage complete, and the client is not
   * released on the asking thread (a query never runs the closer): the expiry timer drops it and
   * closes it, once.
   */
  @Test
  void aClosedLeaseAskedPastTheExpiryAnswersFalseWithoutRunningTheCloser() throws Exception {
    HeldClock clock = closing(new HeldClock());
    Events events = new Events();
    Factory factory = new Factory();
    Queue<Thread> closers = new ConcurrentLinkedQueue<>();
    ClientCache<String, Spec, Client> cache = closing(ClientCache.builder(factory)
        .name("attack-signals-expiry-closed").scheduler(clock).listener(events)
        .closer(c -> {
          closers.add(Thread.currentThread());
          closer(c);
        }).acquireTimeout(Duration.ZERO).refreshAhead(1.0)
        .expiry((s, c) -> Duration.ofSeconds(10)).build());
    await(cache.upsert("k", Spec.of(1), 1));
    ClientLease<Client> lease = lease(cache, "k");
    Client old = lease.get();
    release(lease);
    assertThat(lease.isCurrent()).as("closed, its client still served").isTrue();
    clock.move(Duration.ofSeconds(10));
    assertThat(lease.isCurrent()).as("closed, its client expired").isFalse();
    assertThat(told(lease)).isTrue();
    assertThat(lease.reportFailure(new IllegalStateException(LATE))).isFalse();
    assertThat(events.count(EntryEvent.INVALIDATED)).isZero();
    assertThat(closers).as("closer run by a query").doesNotContain(Thread.currentThread());
    clock.fire();
    await(old.closed);
    events.await(EntryEvent.BUILD_SUCCEEDED, 2);
    assertThat(old.closes).hasValue(1);
    assertThat(closers).doesNotContain(Thread.currentThread());
    assertThat(cache.snapshot("k").orElseThrow().lastError()).isEmpty();
    assertThat(problems).isEmpty();
  }

  /**
   * Holders of several leases on one client ask isCurrent(), and report, at once, past the
   * client's expiry with its timers held back: every answer is false, the stage is told once,
   * one CLIENT_EXPIRED, no INVALIDATED, one retired client; then the replacement is served and
   * the client closed once, after its last lease.
   */
  @Test
  void manyHoldersFindingTheExpiryAtOnceDropTheClientOnce() throws Exception {
    SplittableRandom random = Seeds.random("manyHoldersFindingTheExpiryAtOnce");
    for (int round = 0; round < 20; round++) {
      HeldClock clock = new HeldClock();
      Events events = new Events();
      Factory factory = new Factory();
      ClientCache<String, Spec, Client> cache = ClientCache.builder(factory)
          .name("attack-signals-expiry-many").scheduler(clock).listener(events)
          .closer(this::closer).acquireTimeout(Duration.ZERO).refreshAhead(1.0)
          .expiry((s, c) -> Duration.ofSeconds(10)).build();
      try (clock; cache) {
        await(cache.upsert("k", Spec.of(1), 1));
        int holders = 2 + random.nextInt(5);
        List<ClientLease<Client>> leases = new ArrayList<>();
        for (int i = 0; i < holders; i++) {
          leases.add(lease(cache, "k"));
        }
        Client old = leases.get(0).get();
        AtomicInteger told = new AtomicInteger();
        boolean asked = random.nextBoolean();
        if (asked) {
          leases.get(0).superseded().thenRun(told::incrementAndGet);
        }
        clock.move(Duration.ofSeconds(10 + random.nextInt(3)));
        boolean[] answers = new boolean[holders];
        Workers.run(holders, i -> {
          ClientLease<Client> l = leases.get(i);
          answers[i] = i % 3 == 2 ? l.reportFailure(new IllegalStateException(LATE))
              : l.isCurrent();
          check(told(l), "holder " + i + ": not told after its answer");
        });
        String at = "holders " + holders + ": ";
        assertThat(answers).as(at).containsOnly(false);
        assertThat(events.count(EntryEvent.CLIENT_EXPIRED)).as(at).isOne();
        assertThat(events.count(EntryEvent.INVALIDATED)).as(at).isZero();
        Snapshot<String, Spec, Client> s = cache.snapshot("k").orElseThrow();
        assertThat(s.retiredClientsInUse()).as(at + s).isOne();
        assertThat(s.lastError().map(Throwable::getMessage)).isNotEqualTo(Optional.of(LATE));
        clock.fire(); // the timers, late: the refresh and expiry of the dropped client
        events.await(EntryEvent.BUILD_SUCCEEDED, 2);
        assertThat(told).as(at).hasValue(asked ? 1 : 0);
        for (ClientLease<Client> l : leases) {
          assertThat(l.isCurrent()).isFalse();
          assertThat(old.isClosed()).as(at + "closed under a lease").isFalse();
          release(l);
        }
        await(old.closed);
        assertThat(old.closes).as(at).hasValue(1);
        assertThat(events.count(EntryEvent.CLIENT_EXPIRED)).as(at).isOne();
        assertThat(problems).as(at).isEmpty();
      }
    }
  }
}
