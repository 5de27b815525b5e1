package dev.statewright.harness.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The factory's sight of a build given up before its call ({@link SimFactory#gaveUpBeforeCalling}):
 * a whole build timeout (100 ms here) in which the factory was not called for the key, inside the
 * command, or ending in it when the build may have started before the command and nothing of the
 * command's version was delivered meanwhile. Virtual time, so every instant is exact.
 */
class SimFactoryWitnessTest {
  private final SimulatedScheduler scheduler = new SimulatedScheduler(1, Strategy.random());
  private final SimFactory factory =
      new SimFactory(scheduler, new CacheMonitor(2, true), Duration.ofMillis(2));
  private final List<Boolean> answers = new ArrayList<>();
  private SimFactory.Mark mark;

  SimFactoryWitnessTest() {
    factory.buildTimeout(Duration.ofMillis(100));
  }

  private void at(long millis, Runnable step) {
    scheduler.schedule(step, Duration.ofMillis(millis));
  }

  private void call(long millis, String key, long version) {
    at(millis, () -> factory.build(key, new SimSpec(version)));
  }

  private void markAt(long millis) {
    at(millis, () -> mark = factory.mark());
  }

  private void askAt(long millis, String key, long minVersion, boolean buildMayPrecede) {
    at(millis, () -> answers.add(factory.gaveUpBeforeCalling(key, minVersion, mark, buildMayPrecede)));
  }

  private List<Boolean> run() {
    scheduler.run(Duration.ofSeconds(1), 10_000);
    return answers;
  }

  @Test
  void aWholeTimeoutWithoutACallOfTheKeyInsideTheCommandIsABuildGivenUpUncalled() {
    markAt(0);
    call(50, "other", 1);
    askAt(99, "k", 1, false);
    askAt(100, "k", 1, false);
    assertEquals(List.of(false, true), run());
  }

  @Test
  void aCallOfTheKeyInsideTheTimeoutMeansItWasCalled() {
    markAt(0);
    call(60, "k", 1);
    askAt(150, "k", 1, false);
    askAt(160, "k", 1, false);
    assertEquals(List.of(false, true), run()); // 60 to 160 is quiet again
  }

  @Test
  void aQuietTimeoutEndingInTheCommandCountsOnlyIfTheBuildMayHaveStartedBeforeIt() {
    call(0, "k", 1);
    markAt(150);
    askAt(160, "k", 1, false);
    askAt(160, "k", 1, true);
    assertEquals(List.of(false, true), run());
  }

  @Test
  void aClientOfTheVersionDeliveredDuringTheCommandIsNoBuildGivenUpUncalled() {
    markAt(150);
    call(155, "k", 2); // delivered within 2 ms, served, and then a timeout reported
    askAt(200, "k", 2, true);
    askAt(200, "k", 3, true); // nothing of v3 or newer was delivered
    assertEquals(List.of(false, true), run());
  }
}
