package dev.statewright.harness.lifecycle;

import dev.statewright.harness.property.PropertyTest;
import dev.statewright.lifecycle.Lifecycle;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's example of a lifecycle of one's own, checked the way the engine checks its own. */
class DoorLifecycleTest {
  // sample:start
  enum Door { CLOSED, OPEN, LOCKED, REMOVED }

  enum Action { OPEN, CLOSE, LOCK, UNLOCK, REMOVE }

  static final Lifecycle<Door, Action> DOOR = Lifecycle.builder("door", Door.class, Action.class)
      .initial(Door.CLOSED)
      .permit(Door.CLOSED, Action.OPEN, Door.OPEN)
      .permit(Door.OPEN, Action.CLOSE, Door.CLOSED)
      .permit(Door.CLOSED, Action.LOCK, Door.LOCKED)
      .permit(Door.LOCKED, Action.UNLOCK, Door.CLOSED)
      .permit(Door.CLOSED, Action.REMOVE, Door.REMOVED)
      .terminal(Door.REMOVED)
      .build();

  @Test
  void theSpecDrawsTheDoor() {             // states, transitions and event labels, or a diff
    LifecycleDiagram.assertMatches(Path.of("src/test/resources/door.md"), DOOR);
  }

  @PropertyTest(runs = 300)                // events fired from several clients, simulated and real
  void doorsFollowTheirTable(DoorProperty doors) { }

  static class DoorProperty extends LifecycleModel<Door, Action> {
    DoorProperty() {
      super(DOOR);
      invariant("a locked door never opens", step -> step.from() != Door.LOCKED
          || step.to() != Door.OPEN);
    }
  }
  // sample:end
}
