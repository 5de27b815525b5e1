package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.AsyncClientFactory;
import dev.statewright.cache.Backoff;
import dev.statewright.cache.CacheListener;
import dev.statewright.cache.Change;
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
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attack 3, continued: factories that complete synchronously (on the caller's thread, through a
 * scheduler whose execute runs inline, and async factories whose stage is already complete), and
 * listeners, closers and change policies that throw. Promise (DESIGN, Liveness): "Nothing a
 * factory, closer, listener, source, change policy or caller does — block, throw any Throwable,
 * complete synchronously, call back into the cache ... — stalls another key, loses a bulkhead
 * permit, or leaks a client"; CacheListener: "a listener that throws is logged and otherwise
 * ignored".
 */
class SynchronousAndThrowingCallbacksAttackTest {
  /** Runs every task on the thread that hands it over; timers fire on a timer thread. */
  static final class Inline implements Scheduler, AutoCloseable {
    private final Threads timers = new Threads();

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public void execute(Runnable task) {
      task.run();
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      return timers.schedule(task, delay);
    }

    @Override
    public void close() {
      timers.close();
    }
  }

  private final Inline inline = new Inline();
  private final Threads threads = new Threads();
  private final List<ClientCache<?, ?, ?>> caches = new ArrayList<>();

  private <T extends ClientCache<?, ?, ?>> T track(T cache) {
    caches.add(cache);
    return cache;
  }

  @AfterEach
  void tearDown() {
    caches.forEach(ClientCache::close);
    inline.close();
    threads.close();
  }

  @Test
  void anInlineSchedulerServesUpsertsReplacementsAndDeletes() throws Exception {
    Factory factory = new Factory();
    ClientCache<String, Spec, Client> cache = track(ClientCache.builder(factory)
        .scheduler(inline).backoff(Backoff.fixed(Duration.ofMillis(5))).build());
    assertThat(await(cache.upsert("k", Spec.of(1), 1)).servedVersion()).hasValue(1);
    ClientLease<Client> lease = cache.acquire("k");
    assertThat(await(cache.upsert("k", Spec.of(2), 2)).servedVersion()).hasValue(2);
    assertThat(lease.isCurrent()).isFalse();
    Client old = lease.get();
    lease.close();
    assertThat(old.closes.get()).isEqualTo(1);
    await(cache.delete("k", 3));
    factory.awaitAllClosed();
    assertThat(factory.built()).allSatisfy(c -> assertThat(c.closes.get()).isEqualTo(1));
  }

  /** The factory runs on the upserting thread and upserts its own key again, nested. */
  @Test
  void anInlineFactoryUpsertingItsOwnKeyFromInsideItsBuild() throws Exception {
    Queue<Client> built = new ConcurrentLinkedQueue<>();
    AtomicReference<ClientCache<String, Spec, Client>> self = new AtomicReference<>();
    ClientCache<String, Spec, Client> cache = track(ClientCache.<String, Spec, Client>builder(
        (key, spec) -> {
          if (spec.v() < 5) {
            self.get().upsert(key, Spec.of(spec.v() + 1), spec.v() + 1);
          }
          Client c = new Client(key, spec);
          built.add(c);
          return c;
        }).scheduler(inline).backoff(Backoff.fixed(Duration.ofMillis(5))).build());
    self.set(cache);
    await(cache.upsert("k", Spec.of(1), 1));
    try (ClientLease<Client> lease = await(cache.acquireAsync("k", 5))) {
      assertThat(lease.get().spec.v()).isEqualTo(5);
    }
    Snapshot<String, Spec, Client> s = cache.snapshot("k").orElseThrow();
    assertThat(s.state()).isEqualTo(EntryState.CURRENT);
    assertThat(s.servedVersion()).hasValue(5);
    cache.close();
    CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
        .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(built).allSatisfy(c -> assertThat(c.closes.get()).as("%s", c).isEqualTo(1));
  }

  /** The factory of one key upserts another, nested on the same thread: both are served. */
  @Test
  void anInlineFactoryUpsertingAnotherKeyWithoutWaitingGetsItBuiltAfterItReturns()
      throws Exception {
    AtomicReference<ClientCache<String, Spec, Client>> self = new AtomicReference<>();
    AtomicReference<CompletableFuture<Snapshot<String, Spec, Client>>> inner =
        new AtomicReference<>();
    ClientCache<String, Spec, Client> cache = track(ClientCache.<String, Spec, Client>builder(
        (key, spec) -> {
          if (key.equals("outer")) {
            inner.set(self.get().upsert("inner", Spec.of(spec.v()), spec.v()));
          }
          return new Client(key, spec);
        }).scheduler(inline).maxConcurrentBuilds(2).build());
    self.set(cache);
    await(cache.upsert("outer", Spec.of(1), 1));
    assertThat(await(inner.get()).servedVersion()).hasValue(1);
  }

  @Test
  void asyncFactoriesWhoseStageIsAlreadyCompleteOrFailedOrThatThrow() throws Exception {
    IllegalStateException thrown = new IllegalStateException("thrown by build");
    LinkageError failed = new LinkageError("stage failed with an Error");
    Queue<Client> built = new ConcurrentLinkedQueue<>();
    AsyncClientFactory<String, Spec, Client> factory = (key, spec) -> {
      switch (key) {
        case "throws" -> throw thrown;
        case "fails" -> {
          return CompletableFuture.failedFuture(failed);
        }
        default -> {
          Client c = new Client(key, spec);
          built.add(c);
          return CompletableFuture.completedFuture(c);
        }
      }
    };
    for (Scheduler scheduler : List.<Scheduler>of(inline, threads)) {
      ClientCache<String, Spec, Client> cache = track(ClientCache.asyncBuilder(factory)
          .scheduler(scheduler).maxConcurrentBuilds(1).backoff(Backoff.fixed(Duration.ofMillis(5)))
          .build());
      assertThat(cache.upsert("throws", Spec.of(1), 1)).failsWithin(Kit.WAIT)
          .withThrowableOfType(ExecutionException.class).satisfies(e -> assertThat(chain(e))
              .as("%s", e).contains(thrown));
      assertThat(cache.upsert("fails", Spec.of(1), 1)).failsWithin(Kit.WAIT)
          .withThrowableOfType(ExecutionException.class).satisfies(e -> assertThat(chain(e))
              .as("%s", e).contains(failed));
      for (int i = 1; i <= 20; i++) {
        assertThat(await(cache.upsert("ok", Spec.of(i), i)).servedVersion()).hasValue(i);
      }
      cache.close();
    }
    CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
        .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(built).hasSize(40).allSatisfy(c -> assertThat(c.closes.get()).isEqualTo(1));
  }

  private static List<Throwable> chain(Throwable t) {
    List<Throwable> chain = new ArrayList<>();
    for (Throwable c = t; c != null && !chain.contains(c); c = c.getCause()) {
      chain.add(c);
    }
    return chain;
  }

  /** Every listener method and the closer throw, alternately an exception and an Error. */
  @Test
  void listenersAndClosersThatThrowChangeNothing() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger closerCalls = new AtomicInteger();
    CacheListener<String> hostile = new CacheListener<>() {
      private void boom() {
        if (calls.incrementAndGet() % 2 == 0) {
          throw new OutOfMemoryError("listener pretends to run out of memory");
        }
        throw new IllegalStateException("listener throws");
      }

      @Override
      public void onTransition(String key, Transition<EntryState, EntryEvent> transition) {
        boom();
      }

      @Override
      public void onBuildStarted(String key, long version) {
        boom();
      }

      @Override
      public void onBuildFinished(String key, long version, long nanos, Throwable error) {
        boom();
      }

      @Override
      public void onClientReleased(String key, long version) {
        boom();
      }

      @Override
      public void onLeasesPinned(String key, long version, List<String> holders) {
        boom();
      }
    };
    Factory factory = new Factory();
    for (Scheduler scheduler : List.<Scheduler>of(threads, inline)) {
      ClientCache<String, Spec, Client> cache = track(ClientCache.builder(factory)
          .scheduler(scheduler).maxConcurrentBuilds(1).listener(hostile)
          .leaseWarning(Duration.ZERO)
          .closer(c -> {
            c.close();
            closerCalls.incrementAndGet();
            throw new AssertionError("closer throws after closing");
          }).build());
      for (int v = 1; v <= 10; v++) {
        for (String key : List.of("a", "b")) {
          ClientLease<Client> lease = v == 1 ? null : cache.acquire(key);
          assertThat(await(cache.upsert(key, Spec.of(v), v)).servedVersion()).hasValue(v);
          if (lease != null) {
            assertThat(lease.isCurrent()).isFalse();
            await(lease.superseded().toCompletableFuture());
            lease.close();
          }
        }
      }
      await(cache.delete("a", 11));
      assertThatKeyServes(cache, "b", 10);
      cache.close();
    }
    factory.awaitAllClosed();
    assertThat(factory.built()).hasSize(40)
        .allSatisfy(c -> assertThat(c.closes.get()).as("%s", c).isEqualTo(1));
    assertThat(closerCalls.get()).isEqualTo(40);
    assertThat(calls.get()).isPositive();
  }

  private static void assertThatKeyServes(ClientCache<String, Spec, Client> cache, String key,
      long version) {
    try (ClientLease<Client> lease = cache.acquire(key)) {
      assertThat(lease.version()).isEqualTo(version);
    }
  }

  @Test
  void aChangePolicyOrDependsOnThatThrowsFailsOnlyThatUpdate() throws Exception {
    Factory factory = new Factory();
    ClientCache<String, Spec, Client> cache = track(ClientCache.builder(factory)
        .scheduler(threads)
        .changePolicy((previous, next) -> {
          if (next.secret().contains("policy-bomb")) {
            throw new IllegalStateException("policy throws");
          }
          return previous.equals(next) ? Change.NONE : Change.REBUILD;
        })
        .dependsOn(spec -> {
          if (spec.secret().contains("deps-bomb")) {
            throw new StackOverflowError("dependsOn throws");
          }
          return List.of();
        }).build());
    await(cache.upsert("k", Spec.of(1), 1));
    assertThat(cache.upsert("k", new Spec(2, "policy-bomb"), 2)).failsWithin(Kit.WAIT)
        .withThrowableOfType(ExecutionException.class)
        .havingCause().isInstanceOf(IllegalArgumentException.class);
    assertThat(cache.snapshot("k").orElseThrow().lastError()).isPresent();
    assertThatKeyServes(cache, "k", 1);
    assertThat(cache.upsert("k", new Spec(3, "deps-bomb"), 3)).failsWithin(Kit.WAIT)
        .withThrowableOfType(ExecutionException.class)
        .havingCause().isInstanceOf(IllegalArgumentException.class);
    assertThatKeyServes(cache, "k", 1);
    assertThat(await(cache.upsert("k", Spec.of(4), 4)).servedVersion()).hasValue(4);
    assertThat(cache.upsert("j", new Spec(1, "deps-bomb"), 1)).failsWithin(Kit.WAIT);
    assertThat(await(cache.upsert("j", Spec.of(2), 2)).servedVersion()).hasValue(2);
    assertThat(cache.snapshot("x")).isEmpty();
    org.junit.jupiter.api.Assertions.assertThrows(NoSuchElementException.class,
        () -> cache.acquire("x"));
  }
}
