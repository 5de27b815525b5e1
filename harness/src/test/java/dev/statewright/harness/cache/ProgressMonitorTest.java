package dev.statewright.harness.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.lifecycle.Transition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** The liveness checks fire on the stalls they forbid, and only after their bound. */
class ProgressMonitorTest {
  private final SimulatedScheduler scheduler = new SimulatedScheduler(1, Strategy.random());
  private final List<String> violations = new ArrayList<>();
  private final ProgressMonitor monitor = new ProgressMonitor(scheduler, 1, violations::add);
  private CacheUnderTest.View view = new CacheUnderTest.View(2, 1, true, false, false);
  private int permitsInUse;

  private final CacheUnderTest cache = new CacheUnderTest() {
    @Override
    public CompletionStage<Object> upsert(String key, long version) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<Object> delete(String key, long version) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<ClientLease<SimClient>> acquire(String key) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<Object> invalidate(String key) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<Object> rotate(String secret) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<SimClient> servedClient(String key) {
      return Optional.empty();
    }

    @Override
    public Optional<View> view(String key) {
      return Optional.of(view);
    }

    @Override
    public OptionalInt permitsInUse() {
      return OptionalInt.of(permitsInUse);
    }

    @Override
    public void close() { }
  };

  private void after(Duration time) {
    scheduler.schedule(monitor::afterStep, time);
    scheduler.run(time, 10);
    monitor.afterStep();
  }

  @Test
  void aKeyWaitingForNothingIsReportedOnlyAfterTheBound() {
    monitor.watch(cache, List.of("k"));
    after(Duration.ofSeconds(5)); // first seen waiting
    after(Duration.ofSeconds(7));
    assertEquals(List.of(), violations, "7 s of waiting: within the bound");
    after(Duration.ofSeconds(4));
    assertEquals(1, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith("progress: k has wanted a build"), violations.toString());
  }

  @Test
  void aKeyWithARetryScheduledIsProgressing() {
    view = new CacheUnderTest.View(2, 1, true, true, false);
    monitor.watch(cache, List.of("k"));
    after(Duration.ofMinutes(5));
    assertEquals(List.of(), violations);
  }

  @Test
  void aPermitHeldWithNoBuildRunningIsLostAfterTheBound() {
    view = new CacheUnderTest.View(1, 1, false, false, false);
    permitsInUse = 1;
    monitor.watch(cache, List.of("k"));
    after(Duration.ofSeconds(1));
    after(Duration.ofSeconds(11));
    assertEquals(1, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith("permits: 1 permits in use but 0 builds running"), violations.toString());
  }

  @Test
  void aFailedBuildNobodyNoticedIsReportedOnceTimeMoves() {
    view = new CacheUnderTest.View(1, -1, true, false, false);
    monitor.watch(cache, List.of("k"));
    monitor.buildStarted("k");
    monitor.buildFinished("k");
    monitor.buildFailed("k", 1, new StackOverflowError("injected"));
    monitor.afterStep();
    assertEquals(List.of(), violations, "the same instant: the cache may still be noticing");
    after(Duration.ofMillis(1));
    assertTrue(violations.get(0).startsWith("throwable: the build of k v1 failed"), violations.toString());
  }

  @Test
  void aCallbackWhileABuildWhoseCallReturnedHoldsItsPermitIsReported() {
    monitor.watch(cache, List.of("k"));
    permitsInUse = 1;
    monitor.transition("k", new Transition<>(EntryState.STALE, EntryEvent.BUILD_STARTED, EntryState.REBUILDING));
    monitor.buildAnnounced("k");
    monitor.buildStarted("k");
    monitor.callback("onRejected", "j");
    assertEquals(List.of(), violations, "started, then in its call: the permit is the build's");
    monitor.buildFinished("k");
    monitor.buildTold("k", null);
    assertEquals(1, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith("callbacks: 1 permits in use while onBuildFinished of k runs"),
        violations.toString());
  }

  @Test
  void aBuildGivenUpBeforeItsCallHoldsNoPermitOnceItsUpdateTellsAnyone() {
    monitor.watch(cache, List.of("k"));
    permitsInUse = 1;
    monitor.transition("k", new Transition<>(EntryState.STALE, EntryEvent.BUILD_STARTED, EntryState.REBUILDING));
    assertEquals(List.of(), violations, "started, not yet called: the permit is the build's");
    monitor.transition("k", new Transition<>(EntryState.REBUILDING, EntryEvent.DELETED, EntryState.REMOVED));
    assertEquals(1, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith("callbacks: 1 permits in use while onTransition("),
        violations.toString());
  }
}
