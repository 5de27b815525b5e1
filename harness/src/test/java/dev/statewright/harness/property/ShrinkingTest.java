package dev.statewright.harness.property;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.canary.Canary;
import org.junit.jupiter.api.Test;

/** A failure against a broken cache is shrunk to a handful of commands, and the report says how to replay it. */
class ShrinkingTest {
  @Test
  void aFailureShrinksAndItsReportCarriesTheSeedProgramAndInterleaving() {
    PropertyRunner.Summary summary = PropertyRunner.explore(Canary.cacheModel("no-tombstone"),
        Settings.defaults().seed(42).runs(500).simulatedOnly());
    assertTrue(summary.failure().isPresent(), "the canary was caught");
    Failure<?, ?> failure = summary.failure().get();
    String report = failure.report();
    System.out.println(report);
    assertTrue(failure.shrunk().size() <= 4, "shrunk to " + failure.shrunk().size() + " commands:\n" + report);
    assertTrue(failure.shrunk().size() < failure.original().size() || failure.original().size() <= 4);
    assertTrue(report.contains("-Dstatewright.replay=" + failure.runSeed()));
    assertTrue(report.contains("history:") && report.contains("interleaving"));
  }
}
