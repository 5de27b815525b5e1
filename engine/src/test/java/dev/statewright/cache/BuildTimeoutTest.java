package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.lease.Lease;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** C7's timeout half, on real threads: a hanging factory is interrupted and its late result closed. */
class BuildTimeoutTest {
  private static final Repo HANGS = new Repo("https://blackhole.example");
  private static final Repo WORKS = new Repo("https://charts.example");

  /**
   * The system scheduler, but a timer armed before a factory call starts counting only when that
   * call starts ({@link #callStarts}). A build's timeout counts from the build's start, before its
   * call; on a loaded machine the worker that makes the call may start after the timeout, and then
   * the factory is never called (the build is given up before its call), so a test of what a
   * timeout does to a call under way waits for the call to be under way.
   */
  private static final class TimersFromTheCall implements Scheduler {
    private final Scheduler system = Scheduler.system();
    private final List<Runnable> held = new ArrayList<>(); // guarded by this

    /** A factory call starts: the timers armed before it start counting. */
    void callStarts() {
      List<Runnable> arming;
      synchronized (this) {
        arming = List.copyOf(held);
        held.clear();
      }
      arming.forEach(Runnable::run);
    }

    @Override
    public long nanoTime() {
      return system.nanoTime();
    }

    @Override
    public void execute(Runnable task) {
      system.execute(task);
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      AtomicBoolean cancelled = new AtomicBoolean();
      AtomicReference<Cancellable> armed = new AtomicReference<>();
      Runnable arm = () -> armed.set(system.schedule(() -> {
        if (!cancelled.get()) {
          task.run();
        }
      }, delay));
      synchronized (this) {
        held.add(arm);
      }
      return () -> {
        cancelled.set(true);
        Cancellable timer = armed.get();
        if (timer != null) {
          timer.cancel();
        }
      };
    }
  }

  @Test
  void aHangingBuildFailsAtTheTimeoutIsInterruptedAndANewSpecStillBuilds() throws Exception {
    CountDownLatch interrupted = new CountDownLatch(1);
    TimersFromTheCall scheduler = new TimersFromTheCall();
    ClientFactory<String, Repo, Client> factory = (key, spec) -> {
      scheduler.callStarts();
      if (spec.equals(HANGS)) {
        try {
          new CountDownLatch(1).await(); // a connect to a host that never answers
        } catch (InterruptedException e) {
          interrupted.countDown();
          throw e;
        }
      }
      return new Client(key, spec, 1);
    };
    try (ClientCache<String, Repo, Client> cache = ClientCache.builder(factory)
        .scheduler(scheduler)
        .buildTimeout(Duration.ofMillis(100)).maxConcurrentBuilds(1)
        .backoff(Backoff.fixed(Duration.ofHours(1))).build()) {

      CompletableFuture<Snapshot<String, Repo, Client>> hung = cache.upsert("redis", HANGS, 1);

      assertThatThrownBy(() -> hung.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(TimeoutException.class)
          .hasMessageContaining("build of 'redis' at version 1 exceeded the build timeout of PT0.1S");
      assertThat(interrupted.await(10, TimeUnit.SECONDS)).as("the factory was interrupted").isTrue();
      assertThat(cache.snapshot("redis").orElseThrow().lastError())
          .hasValueSatisfying(e -> assertThat(e).isInstanceOf(TimeoutException.class));

      // the permit came back (maxConcurrentBuilds is 1) and a fixed spec builds at once
      cache.upsert("redis", WORKS, 2).get(10, TimeUnit.SECONDS);
      try (Lease<Client> lease = cache.acquire("redis")) {
        assertThat(lease.get().builtFrom).isEqualTo(WORKS);
      }
    }
  }

  @Test
  void theLateResultOfAnAbandonedBuildIsClosedUnseen() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    TimersFromTheCall scheduler = new TimersFromTheCall();
    ClientFactory<String, Repo, Client> stubborn = (key, spec) -> {
      scheduler.callStarts();
      while (release.getCount() > 0) {
        try {
          release.await();
        } catch (InterruptedException ignoredOnPurpose) {
          // a factory that ignores interrupts: its result arrives late
        }
      }
      return new Client(key, spec, 1);
    };
    try (ClientCache<String, Repo, Client> cache = ClientCache.builder(stubborn)
        .scheduler(scheduler).buildTimeout(Duration.ofMillis(50))
        .backoff(Backoff.fixed(Duration.ofHours(1)))
        .closer(client -> {
          client.close();
          closed.countDown();
        }).build()) {

      CompletableFuture<Snapshot<String, Repo, Client>> late = cache.upsert("redis", WORKS, 1);
      assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
      release.countDown();

      assertThat(closed.await(10, TimeUnit.SECONDS)).as("the late client was closed").isTrue();
      assertThat(cache.snapshot("redis").orElseThrow().servedSpec()).isEmpty();
    }
  }
}
