package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientFactory;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Factory;
import dev.statewright.cache.attack.Kit.Spec;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.lifecycle.Transition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Attack 3, continued: listeners and closers that block or call back into the cache. Promise
 * (DESIGN, Liveness): "Nothing a factory, closer, listener, source, change policy or caller does —
 * block, throw any Throwable, complete synchronously, call back into the cache (including delete
 * and close) — stalls another key, loses a bulkhead permit, or leaks a client. Every user callback
 * runs after the engine's own state change is complete, isolated from the engine."
 */
class CallbackReentryAttackTest {
  private final Threads scheduler = new Threads();
  private final Factory factory = new Factory();
  private final AtomicReference<ClientCache<String, Spec, Client>> self = new AtomicReference<>();
  private final List<ClientCache<String, Spec, Client>> caches = new ArrayList<>();

  @AfterEach
  void tearDown() {
    caches.forEach(ClientCache::close);
    scheduler.close();
  }

  private ClientCache<String, Spec, Client> build(
      java.util.function.UnaryOperator<dev.statewright.cache.ClientCacheBuilder<String, Spec,
          Client>> configure) {
    return build(factory, configure);
  }

  private ClientCache<String, Spec, Client> build(ClientFactory<String, Spec, Client> builds,
      java.util.function.UnaryOperator<dev.statewright.cache.ClientCacheBuilder<String, Spec,
          Client>> configure) {
    ClientCache<String, Spec, Client> cache = configure.apply(ClientCache.builder(builds)
        .name("attack-callbacks").scheduler(scheduler).backoff(Backoff.fixed(Duration.ofMillis(5)))
        .acquireTimeout(Duration.ofSeconds(10))).build();
    caches.add(cache);
    self.set(cache);
    return cache;
  }

  @Test
  void aListenerClosingTheCacheWhenAKeyBecomesCurrent() throws Exception {
    ClientCache<String, Spec, Client> cache = build(b -> b.listener(new CacheListener<>() {
      @Override
      public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
        if (key.equals("b") && t.to() == EntryState.CURRENT) {
          self.get().close();
        }
      }
    }));
    await(cache.upsert("a", Spec.of(1), 1));
    ClientLease<Client> lease = cache.acquire("a");
    CompletableFuture<?> b = cache.upsert("b", Spec.of(1), 1);
    b.handle((x, e) -> x).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(cache.list()).isEmpty();
    await(lease.superseded().toCompletableFuture());
    assertThat(lease.get().isClosed()).isFalse();
    lease.close();
    factory.awaitAllClosed();
    assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes.get()).isEqualTo(1));
  }

  @Test
  void aListenerUpsertingAndSnapshottingFromEveryCallback() throws Exception {
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    ClientCache<String, Spec, Client> cache = build(b -> b.listener(new CacheListener<>() {
      @Override
      public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
        self.get().snapshot(key);
        self.get().list();
      }

      @Override
      public void onBuildStarted(String key, long version) {
        self.get().snapshot(key).ifPresent(s -> seen.add("started " + key + " " + s.state()));
      }

      @Override
      public void onClientReleased(String key, long version) {
        if (key.equals("a") && version < 5) {
          self.get().upsert("a", Spec.of(version + 2), version + 2);
        }
      }
    }));
    await(cache.upsert("a", Spec.of(1), 1));
    await(cache.upsert("a", Spec.of(2), 2));
    try (ClientLease<Client> lease = await(cache.acquireAsync("a", 5))) {
      assertThat(lease.version()).isGreaterThanOrEqualTo(5);
    }
    assertThat(seen).isNotEmpty().allSatisfy(s -> assertThat(s).endsWith("REBUILDING"));
  }

  /** The closer runs on the thread closing the last lease and there calls back into the cache. */
  @Test
  void aCloserCallingBackIntoTheCache() throws Exception {
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    ClientCache<String, Spec, Client> cache = build(b -> b.closer(c -> {
      c.close();
      if (c.key.equals("a")) {
        ClientCache<String, Spec, Client> me = self.get();
        me.upsert("b", Spec.of(c.spec.v()), c.spec.v());
        me.snapshot("a").ifPresent(s -> seen.add("a " + s.state()));
        try (ClientLease<Client> other = me.acquire("c")) {
          seen.add("c v" + other.version());
        }
        me.delete("c", 100 + c.spec.v());
      }
    }));
    await(cache.upsert("c", Spec.of(1), 1));
    await(cache.upsert("a", Spec.of(1), 1));
    ClientLease<Client> lease = cache.acquire("a");
    await(cache.upsert("a", Spec.of(2), 2));
    lease.close();
    assertThat(seen).containsExactly("a CURRENT", "c v1");
    assertThat(await(cache.acquireAsync("b", 1)).version()).isEqualTo(1);
    assertThat(cache.snapshot("c").orElseThrow().state()).isEqualTo(EntryState.REMOVED);
  }

  /** Where a user callback blocks, for key "a", while key "b" wants its first build. */
  enum Hook {
    ON_TRANSITION_TO_REBUILDING, ON_BUILD_STARTED, ON_BUILD_FINISHED, ON_CLIENT_RELEASED,
    CLOSER_OF_THE_REPLACED_CLIENT
  }

  /**
   * With {@code maxConcurrentBuilds(1)}, a listener or closer of key "a" that blocks must not keep
   * the one permit from key "b" (DESIGN, Liveness: nothing a closer or listener does "stalls
   * another key"; C8 counts factory calls only). Failed for every hook before the fix: the permit
   * came back only after the outcome's callbacks (closer, onClientReleased), onBuildFinished was
   * told while it was held (and its time failed the build as a timeout), and the callbacks before
   * the call (transition to REBUILDING, onBuildStarted) were not bounded by the build timeout.
   */
  @ParameterizedTest
  @EnumSource(Hook.class)
  void aBlockingCallbackOfOneKeyDoesNotStallAnotherKey(Hook hook) throws Exception {
    assertThat(anotherKeyServedWhileBlockedIn(hook, 1)).as("b served while %s blocks", hook)
        .isTrue();
  }

  /** The same with two permits: "b" has a permit of its own and is served (a guard). */
  @ParameterizedTest
  @EnumSource(Hook.class)
  void withASecondPermitAnotherKeyIsServedWhileACallbackBlocks(Hook hook) throws Exception {
    assertThat(anotherKeyServedWhileBlockedIn(hook, 2)).as("b served while %s blocks", hook)
        .isTrue();
  }

  /** A closer that blocks on the thread closing the last lease holds no permit (a guard). */
  @Test
  void aCloserBlockingOnTheLeaseClosingThreadStallsNoOtherKey() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ClientCache<String, Spec, Client> cache = build(b -> b.maxConcurrentBuilds(1).closer(c -> {
      c.close();
      if (c.key.equals("a") && c.spec.v() == 1) {
        entered.countDown();
        awaitQuietly(release);
      }
    }));
    await(cache.upsert("a", Spec.of(1), 1));
    ClientLease<Client> lease = cache.acquire("a");
    await(cache.upsert("a", Spec.of(2), 2));
    Thread closer = new Thread(lease::close, "lease-closer");
    closer.start();
    try {
      assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
      assertThat(await(cache.upsert("b", Spec.of(1), 1)).servedVersion()).hasValue(1);
    } finally {
      release.countDown();
      closer.join(TimeUnit.SECONDS.toMillis(20));
    }
    assertThat(closer.isAlive()).isFalse();
  }

  /**
   * A permit that a finished build gives back starts the next queued build, whose transition to
   * REBUILDING may block (bounded by its build timeout). Before the fix that start ran on the
   * finished build's thread before the rest of its update's effects, so "b", served, did not
   * answer its own upsert while "a"'s listener blocked: "a" stalled another key. The existing
   * ON_TRANSITION_TO_REBUILDING case found it about once in eight runs on a loaded machine, when
   * "a"'s retry queued before "b"'s build returned; here "b"'s factory waits for that.
   */
  @Test
  void aQueuedBuildThatAFinishedBuildsPermitStartsDoesNotHoldUpThatBuildsWaiters()
      throws Exception {
    CountDownLatch bCalled = new CountDownLatch(1);
    CountDownLatch bReturns = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ClientCache<String, Spec, Client> cache = build(heldWhileBuilding("b", bCalled, bReturns),
        b -> b.maxConcurrentBuilds(1).listener(new CacheListener<>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            if (key.equals("a") && t.to() == EntryState.REBUILDING) {
              entered.countDown();
              awaitUninterruptibly(release);
            }
          }
        }));
    CompletableFuture<Snapshot<String, Spec, Client>> b = cache.upsert("b", Spec.of(1), 1);
    try {
      assertThat(bCalled.await(20, TimeUnit.SECONDS)).isTrue();
      cache.upsert("a", Spec.of(1), 1); // queued behind b's permit
      bReturns.countDown(); // b's permit starts a, whose listener blocks
      assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
      assertThat(b.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS).servedVersion())
          .as("b answered while a's transition to REBUILDING blocks").hasValue(1);
    } finally {
      release.countDown();
    }
  }

  /**
   * The late client of a build given up during its call (its key deleted) is closed unseen, by the
   * closer: user code, which may block. Before the fix it ran while that build still held its
   * permit (the permit came back after the close), so with one permit "b" stalled behind it. Found
   * by the harness's callbacks: check (reentrant factories, run seed 7110502177632651983).
   */
  @Test
  void theCloserOfTheLateClientOfAGivenUpBuildHoldsNoPermit() throws Exception {
    CountDownLatch called = new CountDownLatch(1);
    CountDownLatch returns = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ClientCache<String, Spec, Client> cache = build(heldWhileBuilding("a", called, returns),
        b -> b.maxConcurrentBuilds(1).closer(c -> {
          c.close();
          if (c.key.equals("a")) {
            entered.countDown();
            awaitUninterruptibly(release); // on the factory's thread, interrupted by the give-up
          }
        }));
    cache.upsert("a", Spec.of(1), 1);
    try {
      assertThat(called.await(20, TimeUnit.SECONDS)).isTrue();
      await(cache.delete("a", 2)); // gives the build up; its call goes on
      returns.countDown(); // the late client is closed unseen, on the factory's thread
      assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Snapshot<String, Spec, Client>> b = cache.upsert("b", Spec.of(1), 1);
      assertThat(b.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS).servedVersion())
          .as("b served while the late client's closer blocks (permits available: %d)",
              cache.footprint()).hasValue(1);
    } finally {
      release.countDown();
    }
  }

  /**
   * Blocks {@code hook} for key "a" (from a thread of its own: listeners may run "on the thread
   * that caused them") and reports whether "b" is served meanwhile, within the acquire timeout.
   */
  private boolean anotherKeyServedWhileBlockedIn(Hook hook, int permits) throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Runnable block = () -> {
      entered.countDown();
      awaitQuietly(release);
    };
    boolean onRelease = hook == Hook.ON_CLIENT_RELEASED
        || hook == Hook.CLOSER_OF_THE_REPLACED_CLIENT;
    ClientCache<String, Spec, Client> cache = build(b -> b.maxConcurrentBuilds(permits)
        .buildTimeout(Duration.ofMillis(100))
        .closer(c -> {
          c.close();
          if (hook == Hook.CLOSER_OF_THE_REPLACED_CLIENT && c.key.equals("a") && c.spec.v() == 1) {
            block.run();
          }
        })
        .listener(new CacheListener<>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            if (hook == Hook.ON_TRANSITION_TO_REBUILDING && key.equals("a")
                && t.to() == EntryState.REBUILDING) {
              block.run();
            }
          }

          @Override
          public void onBuildStarted(String key, long version) {
            if (hook == Hook.ON_BUILD_STARTED && key.equals("a")) {
              block.run();
            }
          }

          @Override
          public void onBuildFinished(String key, long version, long nanos, Throwable error) {
            if (hook == Hook.ON_BUILD_FINISHED && key.equals("a")) {
              block.run();
            }
          }

          @Override
          public void onClientReleased(String key, long version) {
            if (hook == Hook.ON_CLIENT_RELEASED && key.equals("a") && version == 1) {
              block.run();
            }
          }
        }));
    if (onRelease) { // its v1 client is released when v2 replaces it
      cache.upsert("a", Spec.of(1), 1); // its build may exceed 100 ms on a loaded machine:
      await(cache.acquireAsync("a", 1)).close(); // then the upsert fails and the retry serves v1
    }
    long version = onRelease ? 2 : 1;
    Thread upserter = new Thread(() -> cache.upsert("a", Spec.of(version), version), "upserter");
    upserter.start();
    try {
      assertThat(entered.await(20, TimeUnit.SECONDS)).as("%s reached", hook).isTrue();
      CompletableFuture<Snapshot<String, Spec, Client>> b = cache.upsert("b", Spec.of(1), 1);
      // b is served: a lease of v1 within the acquire timeout (10 s; a stalled b waits until
      // release, 30 s). b's own build has the 100 ms timeout too, which a loaded machine can
      // exceed: then its retry serves b, and b's upsert fails with that timeout (C4), its answer
      try (ClientLease<Client> served = cache.acquireAsync("b", 1).handle((l, e) -> l)
          .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)) {
        if (served == null) {
          System.out.println(hook + " with " + permits + " permit(s): b stalled: "
              + cache.snapshot("a") + " " + cache.snapshot("b") + " " + cache.footprint());
          return false;
        }
      }
      Throwable failed = b.handle((snapshot, error) -> error)
          .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      if (failed == null) {
        return b.join().servedVersion().isPresent();
      }
      Throwable cause = failed instanceof CompletionException ? failed.getCause() : failed;
      assertThat(cause).as("b's upsert failed").isInstanceOf(TimeoutException.class)
          .hasMessageContaining("build of 'b' at version 1 exceeded the build timeout");
      return true; // served by the retry, above
    } finally {
      release.countDown();
      upserter.join(TimeUnit.SECONDS.toMillis(20));
      assertThat(upserter.isAlive()).isFalse();
    }
  }

  /**
   * The factory, except that a call for {@code key} counts {@code called} down and then waits for
   * {@code returns}, interrupts or not (giving the build up interrupts it: it goes on).
   */
  private ClientFactory<String, Spec, Client> heldWhileBuilding(String key, CountDownLatch called,
      CountDownLatch returns) {
    return (k, spec) -> {
      if (k.equals(key)) {
        called.countDown();
        awaitUninterruptibly(returns);
      }
      return factory.build(k, spec);
    };
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try {
      for (;;) {
        try {
          if (!latch.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
            throw new AssertionError("never released");
          }
          return;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("never released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
