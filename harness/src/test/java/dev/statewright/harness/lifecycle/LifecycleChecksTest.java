package dev.statewright.harness.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.lifecycle.DoorLifecycleTest.Action;
import dev.statewright.harness.lifecycle.DoorLifecycleTest.Door;
import dev.statewright.harness.property.PropertyRunner;
import dev.statewright.harness.property.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/** The lifecycle checks bite: a spec one transition off, a broken invariant, a bad line. */
class LifecycleChecksTest {
  private static final Path DOOR_SPEC = Path.of("src/test/resources/door.md");

  @Test
  void aSpecOneTransitionOffFailsWithAReadableDiff(@TempDir Path dir) throws IOException {
    Path spec = dir.resolve("door.md");
    Files.writeString(spec, Files.readString(DOOR_SPEC)
        .replace("LOCKED --> CLOSED : UNLOCK", "LOCKED --> OPEN : UNLOCK")
        .replace("    REMOVED --> [*]\n", "    REMOVED --> [*]\n    OPEN --> BROKEN : SLAM\n"));

    AssertionFailedError failure = assertThrows(AssertionFailedError.class,
        () -> LifecycleDiagram.assertMatches(spec, DoorLifecycleTest.DOOR));

    assertEquals(spec + " and lifecycle 'door' differ:\n"
        + "  states only in " + spec + ":\n"
        + "    BROKEN\n"
        + "  transitions only in " + spec + ":\n"
        + "    LOCKED --> OPEN : UNLOCK\n"
        + "    OPEN --> BROKEN : SLAM\n"
        + "  transitions only in lifecycle 'door':\n"
        + "    LOCKED --> CLOSED : UNLOCK\n", failure.getMessage());
    assertTrue(failure.isExpectedDefined() && failure.isActualDefined(), "an IDE can diff them");
  }

  @Test
  void aLineThatIsNoTransitionIsNamed() {
    IllegalArgumentException failure = assertThrows(IllegalArgumentException.class,
        () -> LifecycleDiagram.parse("stateDiagram-v2\n    A --> B : GO\n    A -> C\n", "x.md"));
    assertEquals("x.md line 3: not a transition ('FROM --> TO : EVENT'): 'A -> C'",
        failure.getMessage());
  }

  @Test
  void theEngineDrawsWhatItsSpecsSay() {
    // the harness reads the engine's own specs as it reads a user's
    LifecycleDiagram.assertMatches(Path.of("../specs/repository-lifecycle.md"),
        dev.statewright.cache.ClientCache.LIFECYCLE);
  }

  @Test
  void aBrokenInvariantIsFoundAndNamed() {
    LifecycleModel<Door, Action> doors = new LifecycleModel<>(DoorLifecycleTest.DOOR)
        .invariant("a door is never opened", step -> step.to() != Door.OPEN);
    PropertyRunner.Summary summary = PropertyRunner.explore(doors,
        Settings.defaults().seed(20261125).runs(100));
    String report = summary.failure().orElseThrow().report();
    assertTrue(report.contains("breaks the invariant 'a door is never opened'"), report);
  }

  @Test
  void aCorrectTableIsCheckedOnRealThreadsToo() {
    PropertyRunner.Summary summary = PropertyRunner.explore(
        new LifecycleModel<>(DoorLifecycleTest.DOOR, 3),
        new Settings(300, 20261125, null, 0.8, 0.5, 100_000));
    assertTrue(summary.failure().isEmpty(), summary::toString);
    assertTrue(summary.threadRuns() > 50 && summary.parallelRuns() - summary.threadRuns() > 50,
        "simulated and real-thread runs: " + summary);
  }

  @Test
  void theReadmeShowsTheDoorVerbatim() throws IOException {
    List<String> lines = Files.readAllLines(
        Path.of("src/test/java/dev/statewright/harness/lifecycle/DoorLifecycleTest.java"));
    String sample = String.join("\n", lines.subList(lines.indexOf("  // sample:start") + 1,
        lines.indexOf("  // sample:end")).stream()
        .map(line -> line.isEmpty() ? line : line.substring(2)).toList());
    assertTrue(Files.readString(Path.of("../README.md")).contains(sample),
        "README.md shows DoorLifecycleTest's sample verbatim:\n" + sample);
  }
}
