package dev.statewright.harness.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Three nodes, one stream, drops, duplicates, reordering and partitions: all converge, none goes back. */
class ClusterSimulationTest {
  @Test
  void everyNodeConvergesAndNeverGoesBack() {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println("cluster simulation: seed=" + seed + " (replay with -Dstatewright.seed=" + seed + ")");
    SplittableRandom random = new SplittableRandom(seed);
    for (int run = 0; run < 50; run++) {
      long runSeed = random.nextLong();
      List<String> violations = ClusterSimulation.run(runSeed);
      assertEquals(List.of(), violations, "run seed " + runSeed);
    }
  }

  @Test
  void withoutRelistingLostEventsAreCaughtAsNonConvergence() {
    long caught = new SplittableRandom(11).longs(20).filter(seed -> !ClusterSimulation.run(seed, false).isEmpty()).count();
    System.out.println("cluster simulation without relist: " + caught + " of 20 runs caught");
    assertTrue(caught > 0, "the convergence check bites");
  }
}
