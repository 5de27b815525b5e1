package dev.statewright.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.statewright.cache.ClientCache;
import dev.statewright.harness.cli.Statewright;
import dev.statewright.harness.demo.Demo;
import dev.statewright.harness.explore.Exploration;
import dev.statewright.harness.lifecycle.LifecycleDiagram;
import dev.statewright.harness.lifecycle.LifecycleModel;
import dev.statewright.harness.property.Program;
import dev.statewright.harness.property.PropertyRunner;
import dev.statewright.harness.property.Settings;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every null argument of the harness's public API is refused with a message naming it. */
class NullArgumentsTest {
  private final SimulatedScheduler scheduler = new SimulatedScheduler(1, Strategy.random());
  private final LifecycleModel<?, ?> model = new LifecycleModel<>(ClientCache.LIFECYCLE);

  @Test
  void propertyRunner() {
    assertNamed("model", () -> PropertyRunner.check(null, Settings.defaults()));
    assertNamed("settings", () -> PropertyRunner.check(model, null));
    assertNamed("model", () -> PropertyRunner.explore(null, Settings.defaults()));
    assertNamed("settings", () -> PropertyRunner.explore(model, null));
    assertNamed("model", () -> PropertyRunner.runOnce(null, 1, Settings.defaults()));
    assertNamed("settings", () -> PropertyRunner.runOnce(model, 1, null));
    assertNamed("model", () -> PropertyRunner.replay(null, 1));
    assertNamed("model", () -> PropertyRunner.simulatedRunsPerMinute(null, 2, Duration.ZERO));
    assertNamed("budget", () -> PropertyRunner.simulatedRunsPerMinute(model, 2, null));
    assertNamed("prefix", () -> new Program<>(null, List.of()));
    assertNamed("branches", () -> new Program<>(List.of(), null));
  }

  @Test
  void simulatedScheduler() {
    assertNamed("strategy", () -> new SimulatedScheduler(1, null));
    assertNamed("task", () -> scheduler.execute(null));
    assertNamed("label", () -> scheduler.execute(() -> { }, null));
    assertNamed("task", () -> scheduler.schedule(null, Duration.ZERO));
    assertNamed("delay", () -> scheduler.schedule(() -> { }, null));
    assertNamed("label", () -> scheduler.schedule(() -> { }, Duration.ZERO, null));
    assertNamed("check", () -> scheduler.afterEachStep(null));
    assertNamed("until", () -> scheduler.run(null, 1));
  }

  @Test
  void lifecycleChecks() {
    assertNamed("lifecycle", () -> new LifecycleModel<>(null));
    assertNamed("description", () -> model.invariant(null, step -> true));
    assertNamed("holds", () -> model.invariant("x", null));
    assertNamed("mermaid", () -> LifecycleDiagram.parse(null, "x"));
    assertNamed("source", () -> LifecycleDiagram.parse("stateDiagram-v2", null));
    assertNamed("markdown", () -> LifecycleDiagram.read(null));
    assertNamed("lifecycle", () -> LifecycleDiagram.of(null));
    assertNamed("actual", () -> LifecycleDiagram.of(ClientCache.LIFECYCLE).assertSameAs(null));
    assertNamed("other", () -> LifecycleDiagram.of(ClientCache.LIFECYCLE).differences(null));
  }

  @Test
  void commandLine() {
    assertNamed("args", () -> Statewright.main(null));
    assertNamed("out", () -> new Exploration(null));
    assertNamed("out", () -> Demo.run(null, false));
  }

  private static void assertNamed(String argument, Executable call) {
    assertEquals(argument, assertThrows(NullPointerException.class, call).getMessage());
  }
}
