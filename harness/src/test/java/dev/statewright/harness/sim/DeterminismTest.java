package dev.statewright.harness.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.cache.CacheModel;
import dev.statewright.harness.property.Outcome;
import dev.statewright.harness.property.PropertyRunner;
import dev.statewright.harness.property.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Same seed, same schedule, same result: the real engine on the simulated scheduler. */
class DeterminismTest {
  @Test
  void theSameRunSeedGivesTheSameTraceAndHistoryTwice() {
    Settings simulated = Settings.defaults().simulatedOnly();
    SplittableRandom seeds = new SplittableRandom(20261124);
    int parallel = 0;
    long steps = 0;
    for (int i = 0; i < 20; i++) {
      long seed = seeds.nextLong();
      Outcome first = PropertyRunner.runOnce(CacheModel.clientCacheWithFaults(), seed, simulated);
      Outcome second = PropertyRunner.runOnce(CacheModel.clientCacheWithFaults(), seed, simulated);
      steps += first.trace().size();
      assertEquals(first.trace(), second.trace(), "trace of run seed " + seed);
      assertEquals(first.history(), second.history(), "history of run seed " + seed);
      assertEquals(first.violations(), second.violations(), "violations of run seed " + seed);
      parallel += first.verdict() != null ? 1 : 0;
    }
    assertTrue(parallel > 0, "some runs were parallel programs");
    assertTrue(steps > 200, "the runs did real work: " + steps + " steps");
  }

  @Test
  void aLivenessRunReplaysFromItsSeedHostilityIncluded() {
    Settings simulated = Settings.defaults().simulatedOnly();
    SplittableRandom seeds = new SplittableRandom(20261125);
    for (int i = 0; i < 10; i++) {
      long seed = seeds.nextLong();
      Outcome first = PropertyRunner.runOnce(CacheModel.clientCacheLiveness(100), seed, simulated);
      Outcome second = PropertyRunner.runOnce(CacheModel.clientCacheLiveness(100), seed, simulated);
      assertEquals(first.trace(), second.trace(), "trace of liveness run seed " + seed);
      assertEquals(first.history(), second.history(), "history of liveness run seed " + seed);
      assertTrue(first.trace().stream().anyMatch(step -> step.contains("the run's hostility")),
          "the trace names the run's hostility");
    }
  }

  @Test
  void differentSeedsScheduleDifferently() {
    List<List<String>> traces = new ArrayList<>();
    for (long seed = 1; seed <= 2; seed++) {
      SimulatedScheduler scheduler = new SimulatedScheduler(seed, Strategy.random());
      List<String> order = new ArrayList<>();
      for (int task = 0; task < 8; task++) {
        int id = task;
        scheduler.execute(() -> order.add("t" + id), "t" + id);
      }
      scheduler.run(Duration.ZERO, 100);
      traces.add(order);
    }
    assertNotEquals(traces.get(0), traces.get(1));
  }

  @Test
  void virtualTimeJumpsToTheNextTimerWhenNothingIsReady() {
    SimulatedScheduler scheduler = new SimulatedScheduler(7, Strategy.pct(3));
    List<Long> firedAt = new ArrayList<>();
    scheduler.schedule(() -> firedAt.add(scheduler.nanoTime()), Duration.ofHours(2));
    scheduler.schedule(() -> firedAt.add(scheduler.nanoTime()), Duration.ofSeconds(1));
    assertTrue(scheduler.run(Duration.ofDays(1), 100));
    assertEquals(List.of(Duration.ofSeconds(1).toNanos(), Duration.ofHours(2).toNanos()), firedAt);
  }
}
