package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientCacheBuilder;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.ClientUnavailableException;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Spec;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.testing.TimersFromTheCall;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attack 3: hostile factories. Promise (DESIGN, Liveness): "Nothing a factory, closer, listener,
 * source, change policy or caller does — block, throw any Throwable, complete synchronously, call
 * back into the cache (including delete and close) — stalls another key, loses a bulkhead permit,
 * or leaks a client." ClientFactory: "Anything it throws, an Error included, fails the build: the
 * cache records it as the key's last error and retries with backoff." C8: "no more than
 * maxConcurrentBuilds factory calls execute at once across keys, abandoned calls that have not
 * returned included".
 */
class HostileFactoryAttackTest {
  /** What the factory does for a key; by default builds at once. */
  @FunctionalInterface
  interface Behaviour {
    Client build(String key, Spec spec) throws Exception;
  }

  private final Threads scheduler = new Threads();
  private final Queue<Client> built = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inFactory = new AtomicInteger();
  private final AtomicInteger mostInFactory = new AtomicInteger();
  private volatile Behaviour behaviour = Client::new;
  private final List<ClientCache<String, Spec, Client>> caches = new ArrayList<>();

  private ClientCacheBuilder<String, Spec, Client> builder() {
    return ClientCache.<String, Spec, Client>builder((key, spec) -> {
      mostInFactory.accumulateAndGet(inFactory.incrementAndGet(), Math::max);
      try {
        Client c = behaviour.build(key, spec);
        if (c != null) {
          built.add(c);
        }
        return c;
      } finally {
        inFactory.decrementAndGet();
      }
    }).name("attack-hostile").scheduler(scheduler).backoff(Backoff.fixed(Duration.ofMillis(10)))
        .acquireTimeout(Duration.ofSeconds(10));
  }

  private ClientCache<String, Spec, Client> track(ClientCache<String, Spec, Client> cache) {
    caches.add(cache);
    return cache;
  }

  @AfterEach
  void tearDown() {
    caches.forEach(ClientCache::close);
    scheduler.close();
  }

  private void awaitAllBuiltClosed() throws Exception {
    CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
        .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(built).allSatisfy(c -> assertThat(c.closes.get()).as("%s", c).isEqualTo(1));
  }

  private static boolean causedBy(Throwable t, Throwable wanted) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c == wanted) {
        return true;
      }
    }
    return false;
  }

  @Test
  void aFactoryThrowingAnErrorFailsTheBuildKeepsItsPermitFreeAndIsRetried() throws Exception {
    ClientCache<String, Spec, Client> cache = track(builder().maxConcurrentBuilds(1).build());
    StackOverflowError overflow = new StackOverflowError("factory blew its stack");
    AtomicBoolean healthy = new AtomicBoolean();
    AtomicInteger attempts = new AtomicInteger();
    behaviour = (key, spec) -> {
      if (key.equals("bad") && !healthy.get()) {
        attempts.incrementAndGet();
        throw overflow;
      }
      return new Client(key, spec);
    };
    CompletableFuture<Snapshot<String, Spec, Client>> bad = cache.upsert("bad", Spec.of(1), 1);
    ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(
        ExecutionException.class, () -> bad.get(20, TimeUnit.SECONDS));
    assertThat(causedBy(failed, overflow)).as("cause chain holds the Error: %s", failed).isTrue();
    assertThat(cache.snapshot("bad").orElseThrow().lastError()).containsSame(overflow);
    assertThatThrownBy(() -> cache.acquire("bad"))
        .isInstanceOf(ClientUnavailableException.class)
        .satisfies(e -> assertThat(causedBy(e, overflow)).as("cause %s", e.getCause()).isTrue());
    assertThat(await(cache.upsert("good", Spec.of(1), 1)).servedVersion())
        .as("the one permit came back after the Error").hasValue(1);
    int before = attempts.get();
    healthy.set(true);
    try (ClientLease<Client> lease = await(cache.acquireAsync("bad", 1))) {
      assertThat(lease.get().spec.v()).isEqualTo(1);
    }
    assertThat(before).as("retried while failing").isGreaterThanOrEqualTo(1);
    assertThat(cache.snapshot("bad").orElseThrow().lastError()).isEmpty();
    assertThat(mostInFactory.get()).isLessThanOrEqualTo(1);
  }

  @Test
  void aFactoryReturningNullFailsTheBuildWithoutLosingThePermit() throws Exception {
    ClientCache<String, Spec, Client> cache = track(builder().maxConcurrentBuilds(1).build());
    behaviour = (key, spec) -> key.equals("null") ? null : new Client(key, spec);
    assertThat(cache.upsert("null", Spec.of(1), 1)).failsWithin(Kit.WAIT);
    assertThat(cache.snapshot("null").orElseThrow().lastError()).isPresent();
    assertThat(await(cache.upsert("good", Spec.of(1), 1)).servedVersion()).hasValue(1);
  }

  @Test
  void aBlockedFactoryStallsNoOtherKeyAndADeleteAbandonsIt() throws Exception {
    ClientCache<String, Spec, Client> cache = track(builder().maxConcurrentBuilds(2).build());
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Client> late = new CompletableFuture<>();
    behaviour = (key, spec) -> {
      if (key.equals("slow")) {
        entered.countDown();
        while (true) {
          try {
            assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
            break;
          } catch (InterruptedException abandoned) {
            // a hostile factory ignores interrupts
          }
        }
        Client c = new Client(key, spec);
        late.complete(c);
        return c;
      }
      return new Client(key, spec);
    };
    CompletableFuture<?> slow = cache.upsert("slow", Spec.of(1), 1);
    assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
    Snapshot<String, Spec, Client> during = cache.snapshot("slow").orElseThrow();
    assertThat(during.state()).isEqualTo(EntryState.REBUILDING);
    assertThat(await(cache.upsert("fast", Spec.of(1), 1)).servedVersion()).hasValue(1);
    try (ClientLease<Client> lease = cache.acquire("fast")) {
      assertThat(lease.get().spec.v()).isEqualTo(1);
    }
    await(cache.delete("slow", 2));
    assertThat(slow).failsWithin(Kit.WAIT);
    Snapshot<String, Spec, Client> tomb = cache.snapshot("slow").orElseThrow();
    assertThat(tomb.state()).isEqualTo(EntryState.REMOVED);
    assertThat(tomb.abandonedBuildsRunning()).as("the blocked call has not returned").isEqualTo(1);
    assertThat(await(cache.upsert("fast", Spec.of(2), 2)).servedVersion()).hasValue(2);
    release.countDown();
    assertThat(mostInFactory.get()).isLessThanOrEqualTo(2);
    Client lateClient = await(late);
    await(lateClient.closed);
    assertThat(lateClient.closes.get()).as("the late client is closed unseen, once").isEqualTo(1);
    assertThat(await(cache.upsert("fast", Spec.of(3), 3)).servedVersion()).hasValue(3);
    assertThat(mostInFactory.get()).isLessThanOrEqualTo(2);
  }

  /** The bulkhead counts abandoned calls: with one permit, a blocked abandoned build holds it. */
  @Test
  void anAbandonedBlockedBuildKeepsItsPermitUntilItReturns() throws Exception {
    TimersFromTheCall timers = new TimersFromTheCall(scheduler); // 50 ms, from the call's start
    ClientCache<String, Spec, Client> cache = track(builder().maxConcurrentBuilds(1)
        .scheduler(timers).buildTimeout(Duration.ofMillis(50)).build());
    CountDownLatch release = new CountDownLatch(1);
    behaviour = (key, spec) -> {
      timers.callStarts();
      if (key.equals("slow") && spec.v() == 1) {
        while (true) {
          try {
            release.await();
            break;
          } catch (InterruptedException abandoned) {
            // keeps blocking
          }
        }
      }
      return new Client(key, spec);
    };
    assertThat(cache.upsert("slow", Spec.of(1), 1)).failsWithin(Kit.WAIT);
    assertThat(cache.snapshot("slow").orElseThrow().abandonedBuildsRunning()).isEqualTo(1);
    CompletableFuture<?> other = cache.upsert("other", Spec.of(1), 1);
    CompletableFuture<?> newer = cache.upsert("slow", Spec.of(2), 2);
    release.countDown();
    await(other);
    await(newer);
    assertThat(mostInFactory.get()).as("C8 with one permit").isEqualTo(1);
    cache.close();
    awaitAllBuiltClosed();
  }

  /**
   * Once the abandoned call has returned and given its permit to the next build, no snapshot may
   * still count it: Snapshot.abandonedBuildsRunning counts calls that "have not returned yet".
   */
  @Test
  void theNextBuildOfTheKeyNoLongerSeesTheAbandonedCallThatGaveItThePermit() throws Exception {
    TimersFromTheCall timers = new TimersFromTheCall(scheduler); // 50 ms, from the call's start
    ClientCache<String, Spec, Client> cache = track(builder().maxConcurrentBuilds(1)
        .scheduler(timers).buildTimeout(Duration.ofMillis(50)).build());
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> seenInside = Collections.synchronizedList(new ArrayList<>());
    AtomicReference<ClientCache<String, Spec, Client>> self = new AtomicReference<>(cache);
    behaviour = (key, spec) -> {
      timers.callStarts();
      if (spec.v() == 1) {
        while (true) {
          try {
            release.await();
            break;
          } catch (InterruptedException abandoned) {
            // keeps blocking
          }
        }
      } else {
        seenInside.add(self.get().snapshot(key).orElseThrow().abandonedBuildsRunning());
      }
      return new Client(key, spec);
    };
    assertThat(cache.upsert("k", Spec.of(1), 1)).failsWithin(Kit.WAIT);
    assertThat(cache.snapshot("k").orElseThrow().abandonedBuildsRunning()).isEqualTo(1);
    CompletableFuture<Snapshot<String, Spec, Client>> v2 = cache.upsert("k", Spec.of(2), 2);
    release.countDown();
    Snapshot<String, Spec, Client> served = await(v2);
    assertThat(seenInside).as("abandoned calls counted inside the v2 build").containsOnly(0);
    assertThat(served.abandonedBuildsRunning()).isZero();
    assertThat(cache.snapshot("k").orElseThrow().abandonedBuildsRunning()).isZero();
  }

  @Test
  void aFactoryCallingBackIntoTheCacheForItsOwnAndOtherKeys() throws Exception {
    ClientCache<String, Spec, Client> cache = track(builder().maxConcurrentBuilds(2).build());
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    behaviour = (key, spec) -> {
      if (key.equals("a") && spec.v() == 1) {
        Snapshot<String, Spec, Client> own = cache.snapshot("a").orElseThrow();
        seen.add("own " + own.state() + " desired v" + own.desiredVersion());
        cache.upsert("a", Spec.of(2), 2);
        await(cache.upsert("b", Spec.of(1), 1));
        try (ClientLease<Client> b = cache.acquire("b")) {
          seen.add("b " + b.get().spec.v());
        }
        seen.add("list " + cache.list().size());
      }
      return new Client(key, spec);
    };
    CompletableFuture<Snapshot<String, Spec, Client>> a1 = cache.upsert("a", Spec.of(1), 1);
    assertThat(await(a1).servedVersion().getAsLong()).isGreaterThanOrEqualTo(1);
    try (ClientLease<Client> a = await(cache.acquireAsync("a", 2))) {
      assertThat(a.get().spec.v()).isEqualTo(2);
    }
    assertThat(seen).containsExactly("own REBUILDING desired v1", "b 1", "list 2");
    cache.close();
    awaitAllBuiltClosed();
  }

  @Test
  void aFactoryWaitingOnItsOwnKeyTimesOutInsteadOfDeadlocking() throws Exception {
    ClientCache<String, Spec, Client> cache = track(builder()
        .acquireTimeout(Duration.ofMillis(200)).build());
    AtomicReference<Throwable> inner = new AtomicReference<>();
    behaviour = (key, spec) -> {
      try (ClientLease<Client> own = cache.acquire(key)) {
        inner.set(new AssertionError("leased own key while building it: " + own.get()));
      } catch (RuntimeException expected) {
        inner.set(expected);
      }
      return new Client(key, spec);
    };
    assertThat(await(cache.upsert("a", Spec.of(1), 1)).servedVersion()).hasValue(1);
    assertThat(inner.get()).isInstanceOf(ClientUnavailableException.class);
  }

  @Test
  void aFactoryDeletingItsOwnKeyLeaksNothing() throws Exception {
    ClientCache<String, Spec, Client> cache = track(builder().build());
    CompletableFuture<Client> made = new CompletableFuture<>();
    behaviour = (key, spec) -> {
      cache.delete(key, spec.v() + 1);
      Client c = new Client(key, spec);
      made.complete(c);
      return c;
    };
    CompletableFuture<?> f = cache.upsert("a", Spec.of(1), 1);
    assertThat(f).failsWithin(Kit.WAIT).withThrowableOfType(ExecutionException.class)
        .havingCause().isInstanceOf(NoSuchElementException.class);
    assertThat(cache.snapshot("a").orElseThrow().state()).isEqualTo(EntryState.REMOVED);
    assertThat(cache.list()).isEmpty();
    Client client = await(made);
    await(client.closed);
    assertThat(client.closes.get()).as("the late client closed once").isEqualTo(1);
  }

  @Test
  void aFactoryClosingTheCacheLeaksNothing() throws Exception {
    ClientCache<String, Spec, Client> cache = track(builder().build());
    CompletableFuture<Client> made = new CompletableFuture<>();
    behaviour = (key, spec) -> {
      cache.close();
      Client c = new Client(key, spec);
      made.complete(c);
      return c;
    };
    CompletableFuture<?> f = cache.upsert("a", Spec.of(1), 1);
    assertThat(f).failsWithin(Kit.WAIT);
    assertThat(cache.list()).isEmpty();
    Client client = await(made);
    await(client.closed);
    assertThat(client.closes.get()).as("the late client closed once").isEqualTo(1);
  }
}
