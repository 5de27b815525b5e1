package dev.statewright.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Accessors and descriptions that no behavioural test read. */
class LifecycleCornersTest {
  enum Door { OPEN, SHUT, GONE }

  enum Push { CLOSE, OPEN_UP, REMOVE }

  private final Lifecycle<Door, Push> lifecycle = Lifecycle.builder("door", Door.class, Push.class)
      .initial(Door.OPEN)
      .permit(Door.OPEN, Push.CLOSE, Door.SHUT)
      .permit(Door.SHUT, Push.OPEN_UP, Door.OPEN)
      .permit(Door.SHUT, Push.REMOVE, Door.GONE)
      .terminal(Door.GONE)
      .build();

  @Test
  void onlyTerminalStatesAreTerminal() {
    assertThat(lifecycle.isTerminal(Door.GONE)).isTrue();
    assertThat(lifecycle.isTerminal(Door.OPEN)).isFalse();
    assertThat(lifecycle.isTerminal(Door.SHUT)).isFalse();
  }

  @Test
  void aMachineKnowsItsKeyAndLifecycleAndSaysWhereItIs() {
    StateMachine<Door, Push> machine = lifecycle.newMachine("front", (key, t) -> { });
    machine.fire(Push.CLOSE);

    assertThat(machine.key()).isEqualTo("front");
    assertThat(machine.lifecycle()).isSameAs(lifecycle);
    assertThat(machine).hasToString("door[front: SHUT]");
    assertThat(lifecycle).hasToString("Lifecycle[door, 3 transitions]");
  }

  @Test
  void aMachineNobodyListensToMovesAndRefusesAsAnyOther() {
    StateMachine<Door, Push> machine = lifecycle.newMachine("back");
    assertThat(machine.fire(Push.CLOSE)).isEqualTo(Door.SHUT);
    assertThat(machine.fireIf(Door.SHUT, Push.OPEN_UP)).isTrue();
    assertThat(machine.fireIf(Door.SHUT, Push.OPEN_UP)).isFalse();
    assertThat(machine.state()).isEqualTo(Door.OPEN);
    assertThatThrownBy(() -> machine.fire(Push.OPEN_UP))
        .isInstanceOf(IllegalTransitionException.class);
  }

  @Test
  void theTableHandedOutCannotBeChanged() {
    assertThatThrownBy(() -> lifecycle.permitted(Door.SHUT).clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
