package dev.statewright.harness.canary;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every canary must be caught on every build: a harness that stopped finding bugs fails CI. */
class CanariesTest {
  private static final int BUDGET = 300;

  @TestFactory
  Stream<DynamicTest> everyCanaryIsCaught() {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println("canaries: seed=" + seed + " (replay with -Dstatewright.seed=" + seed + ")");
    return Canary.all().stream().map(canary -> DynamicTest.dynamicTest(canary.name(), () -> {
      Canary.Hunt hunt = canary.hunt(seed, BUDGET);
      System.out.println("canary " + hunt);
      assertTrue(hunt.caught(), canary.name() + " (" + canary.bug() + ") was not caught in "
          + BUDGET + " runs from seed " + seed);
    }));
  }
}
