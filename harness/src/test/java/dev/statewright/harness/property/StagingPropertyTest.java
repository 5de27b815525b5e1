package dev.statewright.harness.property;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.statewright.harness.staging.StagingProperty;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The engine's own S1–S5, proven through the harness's staging scenario. */
class StagingPropertyTest {
  @Test
  void stagingKeepsS1ToS5AcrossRandomRuns() throws Exception {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println("staging property: seed=" + seed + " (replay with -Dstatewright.seed=" + seed + ")");
    SplittableRandom random = new SplittableRandom(seed);
    StagingProperty property = StagingProperty.staging();
    for (int run = 0; run < 40; run++) {
      long runSeed = random.nextLong();
      List<String> violations = property.run(runSeed);
      assertEquals(List.of(), violations, "run seed " + runSeed);
    }
  }
}
