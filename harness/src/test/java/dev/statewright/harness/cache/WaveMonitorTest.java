package dev.statewright.harness.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.statewright.cache.Wave;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** C14's checks fire on the behaviour they forbid: none of them is vacuous. */
class WaveMonitorTest {
  private long now;
  private final Scheduler clock = new Scheduler() {
    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public void execute(Runnable task) {
      task.run();
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      throw new UnsupportedOperationException("the monitor schedules nothing");
    }
  };
  private final WaveMonitor monitor =
      new WaveMonitor(Wave.canaryFirst(1).thenAtMost(2, Duration.ofSeconds(1)), clock);

  private WaveMonitor.Run change(String... canaries) {
    WaveMonitor.Run run = monitor.changing(0);
    for (String key : canaries) {
      monitor.marked(key);
    }
    monitor.changed();
    return run;
  }

  private void at(long millis, String... keys) {
    now = Duration.ofMillis(millis).toNanos();
    for (String key : keys) {
      monitor.marked(key);
    }
  }

  private List<String> finish(List<String> live) {
    return monitor.finish(live, k -> 0, k -> 0, k -> false, (k, t) -> false);
  }

  @Test
  void twoWindowsAtTheRateAreFineAThirdMarkInOneIsNot() {
    WaveMonitor.Run run = change("c");
    at(100, "a", "b");
    at(1100, "d", "e");
    monitor.futureDone(run, null);
    assertEquals(List.of(), monitor.finish(List.of(), k -> 0, k -> 0, k -> false, (k, t) -> false));
    at(1500, "f");
    assertEquals(List.of("C14: rate: change #1 marked 3 dependents within PT1S up to PT1.5S; its rate is 2"),
        finish(List.of()));
  }

  @Test
  void aMarkAfterAFailedCanaryIsCaught() {
    WaveMonitor.Run run = change("c");
    monitor.buildEnded("c", monitor.startsAfterMark("c"), run, new IOException("401"));
    at(100, "a");
    monitor.futureDone(run, new IOException("401"));
    assertEquals(List.of("C14: canary: change #1 marked a at PT0.1S, after its canary c (401) failed at PT0S"),
        finish(List.of()));
  }

  @Test
  void aBuildStartedBeforeTheMarkIsNoCanaryFailure() {
    WaveMonitor.Run run = change("c");
    monitor.buildEnded("c", false, run, new IOException("an older build"));
    at(100, "a");
    monitor.futureDone(run, null);
    assertEquals(List.of(), finish(List.of()));
  }

  @Test
  void heldKeysMustRecordTheCanarysErrorAndItsFutureMustFail() {
    WaveMonitor.Run run = change("c");
    monitor.buildEnded("c", true, run, new IOException("401"));
    monitor.futureDone(run, null);
    assertEquals(List.of(
        "C14: future: change #1's future completed normally though its canary c (401) failed",
        "C14: held: h was held back by the failed canary c (401) of change #1 but records no error"),
        finish(List.of("c", "h")));
  }

  @Test
  void aKeyMarkedTwiceInOneWaveAndAFutureNeverCompletedAreCaught() {
    change("c");
    at(100, "c");
    assertEquals(List.of("C14: twice: change #1 marked c twice",
        "C14: future: the future of change #1 never completed"), finish(List.of()));
  }

  @Test
  void aWaveThatEndsWellMustHaveRebuiltEveryKey() {
    WaveMonitor.Run run = change("c");
    monitor.futureDone(run, null);
    assertEquals(List.of("C14: rebuilt: change #1's future completed but c serves a client built before it"),
        finish(List.of("c")));
  }
}
