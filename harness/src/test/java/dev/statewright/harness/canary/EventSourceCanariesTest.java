package dev.statewright.harness.canary;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.event.EventSourceProperty;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Each event-source canary is caught by the check of the class it reproduces, and by no property
 * that existed before (none of them runs an event source): the engine's own sources, run from the
 * catching seed with the same hostility, pass that check.
 */
class EventSourceCanariesTest {
  private static final int BUDGET = 300;

  @TestFactory
  Stream<DynamicTest> eachIsCaughtByItsOwnCheckWhereTheEngineSourcesPass() {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println("event canaries: seed=" + seed + " (replay with -Dstatewright.seed=" + seed
        + ")");
    EventSourceProperty engine = EventSourceProperty.eventSources();
    return EventSourceCanaries.all().stream().map(canary -> DynamicTest.dynamicTest(canary.name(),
        () -> {
          Canary.Hunt hunt = canary.hunt(seed, BUDGET);
          System.out.println("canary " + hunt);
          assertTrue(hunt.caught(), canary.name() + " was not caught in " + BUDGET + " runs");
          List<String> engineSaw = engine.run(hunt.runSeed());
          assertTrue(engineSaw.stream().noneMatch(v -> canary.catches().stream()
              .anyMatch(v::startsWith)), "the engine's sources fail " + canary.catches()
              + " at run seed " + hunt.runSeed() + ": " + engineSaw);
        }));
  }
}
