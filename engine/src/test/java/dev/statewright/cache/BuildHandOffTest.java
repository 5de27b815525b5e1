package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.testing.ForwardingScheduler;
import dev.statewright.testing.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, freshness for isolated updates: what lies between an {@code upsert} and the served
 * client. A blocking build is handed to a worker once ({@code execute}); the build timeout is
 * armed before that hand-off, so that it also bounds the callbacks told before the call (the
 * transition to REBUILDING, {@code onBuildStarted}), and cancelled after the outcome is served,
 * so the upsert's future does not wait for the timer's queue. The timeout itself holds
 * (BuildTimeoutTest), and every timer armed is cancelled.
 */
class BuildHandOffTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(77);

  @Test
  void anUpsertArmsTheTimeoutHandsItsBuildOverAndIsServedBeforeTheTimeoutIsCancelled() {
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    Recording scheduler = new Recording(new ManualScheduler(), seen);
    ClientFactory<String, Long, Long> factory = (key, spec) -> {
      seen.add("build");
      return spec;
    };
    try (ClientCache<String, Long, Long> cache = ClientCache.builder(factory)
        .scheduler(scheduler).buildTimeout(TIMEOUT).build()) {
      for (long version = 1; version <= 3; version++) { // a first insert, then isolated updates
        seen.clear();
        CompletableFuture<Snapshot<String, Long, Long>> served =
            cache.upsert("redis", version, version);
        served.thenRun(() -> seen.add("served"));

        assertThat(seen).as("on the caller's thread, up to the upsert's return")
            .containsExactly("arm timeout", "execute");
        scheduler.inner.runAll(); // the worker

        assertThat(seen).as("version %d, from upsert to served", version)
            .containsExactly("arm timeout", "execute", "build", "served", "cancel timeout");
      }
    }
  }

  @Test
  void aBuildServedOnTheCallersThreadCancelsItsTimeout() {
    // execute runs the build on the caller's thread: the outcome, finished before the launcher
    // attached it, goes back through execute (in place here), is served before the upsert
    // returns, and the timeout armed before the hand-off is cancelled by then
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    Recording scheduler = inline(seen);
    ClientFactory<String, Long, Long> factory = (key, spec) -> {
      seen.add("build");
      return spec;
    };
    try (ClientCache<String, Long, Long> cache = ClientCache.builder(factory)
        .scheduler(scheduler).buildTimeout(TIMEOUT).build()) {
      CompletableFuture<Snapshot<String, Long, Long>> served = cache.upsert("redis", 1L, 1);

      assertThat(served).as("served before upsert returned").isCompleted();
      assertThat(seen).containsExactly("arm timeout", "execute", "build", "execute",
          "cancel timeout");
      assertThat(scheduler.armed).as("timeouts armed and not cancelled").isZero();
    }
  }

  @Test
  void anOutcomeTheSchedulerRefusesToTakeIsAppliedWhereTheBuildEnded() {
    // the build runs in place, so it has ended before the launcher attaches its outcome, which
    // then goes to the scheduler; this one refuses every task after the build
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    Recording scheduler = new Recording(new ManualScheduler(), seen) {
      @Override
      public void execute(Runnable task) {
        seen.add("execute");
        if (seen.stream().filter("execute"::equals).count() > 1) {
          throw new RejectedExecutionException("refused: the pool is shut down");
        }
        task.run();
      }
    };
    try (ClientCache<String, Long, Long> cache = ClientCache.<String, Long, Long>builder(
        (key, spec) -> spec).scheduler(scheduler).buildTimeout(TIMEOUT).build()) {
      assertThat(cache.upsert("redis", 1L, 1)).as("served though the hand-off was refused")
          .isCompleted();
      assertThat(scheduler.armed).as("timeouts armed and not cancelled").isZero();
    }
  }

  @Test
  void aTimeoutArmedAfterItsBuildWasGivenUpIsCancelledAtOnce() {
    // execute runs the build on the caller's thread, and the build deletes its own key: the run
    // is abandoned inside the call, before the launcher arms its timeout
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    Recording scheduler = inline(seen);
    AtomicReference<ClientCache<String, Long, Long>> self = new AtomicReference<>();
    ClientFactory<String, Long, Long> deletesItsKey = (key, spec) -> {
      self.get().delete(key, spec + 1);
      return spec;
    };
    try (ClientCache<String, Long, Long> cache = ClientCache.builder(deletesItsKey)
        .scheduler(scheduler).buildTimeout(TIMEOUT).build()) {
      self.set(cache);
      cache.upsert("redis", 1L, 1);

      assertThat(cache.snapshot("redis")).hasValueSatisfying(
          s -> assertThat(s.state()).isEqualTo(EntryState.REMOVED));
      assertThat(seen).as("the timeout was armed, and cancelled")
          .containsSubsequence("arm timeout", "cancel timeout");
      assertThat(scheduler.armed).as("timeouts armed and not cancelled").isZero();
    }
  }

  @Test
  void aRunArmsOneTimeoutHoweverManyUpdatesComeWhileItRuns() {
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    Recording scheduler = new Recording(new ManualScheduler(), seen);
    List<CompletableFuture<Long>> calls = new ArrayList<>();
    AsyncClientFactory<String, Long, Long> factory = (key, spec) -> {
      CompletableFuture<Long> call = new CompletableFuture<>();
      calls.add(call);
      return call;
    };
    try (ClientCache<String, Long, Long> cache = ClientCache.asyncBuilder(factory)
        .scheduler(scheduler).buildTimeout(TIMEOUT).build()) {
      cache.upsert("redis", 1L, 1);
      cache.upsert("redis", 2L, 2); // both while the first call runs: the run keeps its timer
      cache.upsert("redis", 3L, 3);
      assertThat(scheduler.armed).as("one timer for the one run").isEqualTo(1);

      calls.get(0).complete(1L); // served, and the newest spec's build starts with the permit
      calls.get(1).complete(3L);

      assertThat(calls).hasSize(2);
      assertThat(cache.snapshot("redis").orElseThrow().servedVersion()).hasValue(3);
      assertThat(scheduler.armed).as("timeouts armed and not cancelled").isZero();
    }
  }

  @Test
  void aRunGivenUpWhileOnBuildStartedRunsIsReportedFinishedAndNeverCalled() {
    ManualScheduler scheduler = new ManualScheduler();
    List<String> heard = new ArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    ClientFactory<String, Long, Long> factory = (key, spec) -> {
      calls.incrementAndGet();
      return spec;
    };
    try (ClientCache<String, Long, Long> cache = ClientCache.builder(factory).scheduler(scheduler)
        .listener(new CacheListener<>() {
          @Override
          public void onBuildStarted(String key, long version) {
            heard.add("started v" + version);
            if (heard.size() == 1) {
              scheduler.advance(TIMEOUT); // as a listener blocking past the build timeout
            }
          }

          @Override
          public void onBuildFinished(String key, long version, long nanos, Throwable error) {
            heard.add("finished v" + version + " after " + Duration.ofNanos(nanos).toSeconds()
                + "s: " + error.getClass().getSimpleName());
          }
        }).buildTimeout(TIMEOUT).backoff(Backoff.fixed(Duration.ofMinutes(5))).build()) {
      cache.upsert("redis", 1L, 1);

      assertThat(heard).containsExactly("started v1", "finished v1 after 77s: "
          + "CancellationException");
      assertThat(calls).as("the factory was never called").hasValue(0);
      assertThat(cache.snapshot("redis").orElseThrow().lastError()).hasValueSatisfying(
          e -> assertThat(e).isInstanceOf(TimeoutException.class));
      assertThat(cache.footprint().permitsAvailable()).as("the permit came back")
          .isEqualTo(16);
    }
  }

  @Test
  void whicheverComesFirstTheTimerOrTheEndOfTheRunTheTimerIsCancelled() {
    BuildRun<String> ended = new BuildRun<>("spec", 1, 1, 0, new AtomicInteger());
    ended.beginLaunch();
    ended.launched(null);
    ended.ended();
    boolean[] cancelled = new boolean[1];
    ended.timeout(() -> cancelled[0] = true);
    assertThat(cancelled[0]).as("armed after the call ended").isTrue();

    BuildRun<String> abandoned = new BuildRun<>("spec", 1, 1, 0, new AtomicInteger());
    abandoned.beginLaunch();
    abandoned.abandon();
    boolean[] cancelled2 = new boolean[1];
    abandoned.timeout(() -> cancelled2[0] = true);
    assertThat(cancelled2[0]).as("armed after the run was given up").isTrue();

    BuildRun<String> running = new BuildRun<>("spec", 1, 1, 0, new AtomicInteger());
    running.beginLaunch();
    boolean[] cancelled3 = new boolean[1];
    running.timeout(() -> cancelled3[0] = true);
    running.launched(null);
    running.ended();
    assertThat(cancelled3[0]).as("the end of the call leaves it to cancelTimeout").isFalse();
    running.cancelTimeout();
    assertThat(cancelled3[0]).isTrue();
  }

  /** A recording scheduler whose {@code execute} runs the task on the caller's thread. */
  private static Recording inline(List<String> seen) {
    return new Recording(new ManualScheduler(), seen) {
      @Override
      public void execute(Runnable task) {
        seen.add("execute");
        task.run();
      }
    };
  }

  /** Records the scheduler calls the build makes; the build timeout is told apart by its delay. */
  private static class Recording extends ForwardingScheduler {
    private final List<String> seen;
    int armed;

    Recording(ManualScheduler inner, List<String> seen) {
      super(inner);
      this.seen = seen;
    }

    @Override
    public void execute(Runnable task) {
      seen.add("execute");
      inner.execute(task);
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      Cancellable timer = inner.schedule(task, delay);
      if (!delay.equals(TIMEOUT)) {
        return timer;
      }
      seen.add("arm timeout");
      armed++;
      boolean[] done = new boolean[1];
      return () -> {
        if (!done[0]) {
          done[0] = true;
          armed--;
          seen.add("cancel timeout");
        }
        timer.cancel();
      };
    }
  }
}
