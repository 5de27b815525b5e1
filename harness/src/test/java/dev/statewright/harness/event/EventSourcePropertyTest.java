package dev.statewright.harness.event;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/** The engine's event sources against {@link EventSourceProperty}, many seeded runs. */
class EventSourcePropertyTest {
  private static final int RUNS = 2_000;
  private static final long BUG_SEED = 102; // a run in which the sink closes its polling source

  @Test
  void theEngineSourcesPassEveryRun() throws Exception {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println("event sources: seed=" + seed + " (replay with -Dstatewright.seed=" + seed
        + ")");
    SplittableRandom seeds = new SplittableRandom(seed);
    EventSourceProperty property = EventSourceProperty.eventSources();
    for (int run = 0; run < RUNS; run++) {
      long runSeed = seeds.nextLong();
      assertEquals(List.of(), property.run(runSeed), "run " + run + ", run seed " + runSeed
          + " of seed " + seed);
    }
  }

  // PollingEventSource's overview: "once [close()] returns, nothing more reaches the sink"; the
  // attack test aSinkThatClosesTheSourceFromInsideADeliveryIsToldNothingMore says the same of a sink
  // that closes the source from inside a delivery. But deliver() goes on with the rest of the
  // listing and its progress() after that close returned (the sink holds the reentrant lock).
  @Disabled("BUG: a PollingEventSource whose sink closes it from inside a delivery is still told"
      + " the rest of that listing and its progress (E5)")
  @Test
  void aPollingSinkThatClosesItsSourceIsToldNothingMore() throws Exception {
    assertEquals(List.of(), new EventSourceProperty("engine, sink closes", SourcesUnderTest.engine(),
        true).run(BUG_SEED), "run seed " + BUG_SEED);
  }
}
