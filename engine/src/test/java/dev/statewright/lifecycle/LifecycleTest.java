package dev.statewright.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LifecycleTest {
  enum Light { RED, GREEN, YELLOW, BROKEN }

  enum Signal { GO, SLOW, STOP, SMASH }

  private static Lifecycle.Builder<Light, Signal> traffic() {
    return Lifecycle.builder("traffic-light", Light.class, Signal.class)
        .initial(Light.RED)
        .permit(Light.RED, Signal.GO, Light.GREEN)
        .permit(Light.GREEN, Signal.SLOW, Light.YELLOW)
        .permit(Light.YELLOW, Signal.STOP, Light.RED)
        .permit(Light.RED, Signal.SMASH, Light.BROKEN)
        .terminal(Light.BROKEN);
  }

  @Test
  void stepsAlongPermittedTransitions() {
    Lifecycle<Light, Signal> lifecycle = traffic().build();

    assertThat(lifecycle.next(Light.RED, Signal.GO)).contains(Light.GREEN);
    assertThat(lifecycle.next(Light.RED, Signal.STOP)).isEmpty();
    assertThat(lifecycle.permitted(Light.RED)).containsExactlyInAnyOrder(Signal.GO, Signal.SMASH);
    assertThat(lifecycle.isTerminal(Light.BROKEN)).isTrue();
    assertThat(lifecycle.transitions()).hasSize(4);
  }

  @Test
  void refusedEventNamesMachineKeyStateEventAndWhatIsPermitted() {
    Lifecycle<Light, Signal> lifecycle = traffic().build();

    assertThatThrownBy(() -> lifecycle.step("corner-5th", Light.GREEN, Signal.STOP))
        .isInstanceOfSatisfying(IllegalTransitionException.class, e -> {
          assertThat(e.machine()).isEqualTo("traffic-light");
          assertThat(e.key()).isEqualTo("corner-5th");
          assertThat(e.state()).isEqualTo(Light.GREEN);
          assertThat(e.event()).isEqualTo(Signal.STOP);
          assertThat(e.permitted()).containsExactly(Signal.SLOW);
        })
        .hasMessage("traffic-light 'corner-5th': event STOP is not permitted in state GREEN"
            + " (permitted there: [SLOW])");
    assertThatThrownBy(() -> lifecycle.step("corner-5th", Light.BROKEN, Signal.GO))
        .hasMessageContaining("terminal state");
  }

  @Test
  void refusesUnreachableStates() {
    Lifecycle.Builder<Light, Signal> builder = Lifecycle.builder("l", Light.class, Signal.class)
        .initial(Light.RED)
        .permit(Light.RED, Signal.GO, Light.GREEN)
        .permit(Light.GREEN, Signal.STOP, Light.RED)
        .permit(Light.YELLOW, Signal.SMASH, Light.BROKEN)
        .terminal(Light.BROKEN);

    assertThatThrownBy(builder::build).hasMessageContaining("unreachable from RED: [YELLOW, BROKEN]");
  }

  @Test
  void refusesTerminalStatesWithExitsAndDeadEnds() {
    assertThatThrownBy(() -> traffic().permit(Light.BROKEN, Signal.GO, Light.GREEN).build())
        .hasMessageContaining("terminal state BROKEN has exits");
    assertThatThrownBy(() -> Lifecycle.builder("l", Light.class, Signal.class)
            .initial(Light.RED)
            .permit(Light.RED, Signal.GO, Light.GREEN)
            .permit(Light.GREEN, Signal.SLOW, Light.YELLOW)
            .permit(Light.RED, Signal.SMASH, Light.BROKEN)
            .terminal(Light.BROKEN)
            .build())
        .hasMessageContaining("state YELLOW has no exits");
  }

  @Test
  void refusesTwoTargetsForOneEventAndMissingInitial() {
    assertThatThrownBy(() -> traffic().permit(Light.RED, Signal.GO, Light.YELLOW))
        .hasMessageContaining("GO in RED already leads to GREEN");
    assertThatThrownBy(() -> Lifecycle.builder("l", Light.class, Signal.class).build())
        .hasMessageContaining("no initial state");
    assertThatThrownBy(() -> Lifecycle.builder(" ", Light.class, Signal.class))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void exportsMermaid() {
    assertThat(traffic().build().toMermaid()).isEqualTo("""
        stateDiagram-v2
            [*] --> RED
            RED --> GREEN : GO
            GREEN --> YELLOW : SLOW
            YELLOW --> RED : STOP
            RED --> BROKEN : SMASH
            BROKEN --> [*]
        """);
  }

  @Test
  void machineFiresAndTellsItsListenerAfterTheChange() {
    List<String> seen = new ArrayList<>();
    StateMachine<Light, Signal> machine = traffic().build().newMachine("corner-5th",
        (key, t) -> seen.add(key + ": " + t));

    assertThat(machine.fire(Signal.GO)).isEqualTo(Light.GREEN);
    assertThat(machine.fireIf(Light.RED, Signal.GO)).isFalse();
    assertThat(machine.fireIf(Light.GREEN, Signal.SLOW)).isTrue();
    assertThatThrownBy(() -> machine.fire(Signal.GO)).isInstanceOf(IllegalTransitionException.class);

    assertThat(machine.state()).isEqualTo(Light.YELLOW);
    assertThat(seen).containsExactly("corner-5th: RED --GO--> GREEN",
        "corner-5th: GREEN --SLOW--> YELLOW");
  }

  @Test
  void aThrowingListenerCannotUndoATransition() {
    StateMachine<Light, Signal> machine = traffic().build().newMachine("k", (key, t) -> {
      throw new IllegalStateException("listener bug");
    });

    assertThat(machine.fire(Signal.GO)).isEqualTo(Light.GREEN);
    assertThat(machine.state()).isEqualTo(Light.GREEN);
  }
}
