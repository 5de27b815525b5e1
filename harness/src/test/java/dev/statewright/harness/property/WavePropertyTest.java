package dev.statewright.harness.property;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.statewright.harness.cache.WaveProperty;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The engine's own C14, proven through the harness's dependency-wave scenario. */
class WavePropertyTest {
  @Test
  void wavesKeepTheirRateAndStopOnAFailedCanaryAcrossRandomRuns() {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println("wave property: seed=" + seed + " (replay with -Dstatewright.seed=" + seed + ")");
    SplittableRandom random = new SplittableRandom(seed);
    WaveProperty property = WaveProperty.waves();
    for (int run = 0; run < 200; run++) {
      long runSeed = random.nextLong();
      List<String> violations = property.run(runSeed);
      assertEquals(List.of(), violations, "run seed " + runSeed);
    }
  }
}
