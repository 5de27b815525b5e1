package dev.statewright.harness.property;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * One step of a generated program: how it changes the model, and how to run it on the system.
 *
 * @param <S> the model state: an immutable value with equals and hashCode
 * @param <R> the system under test
 */
public interface Command<S, R> {

  /** Whether the command may run in {@code state}; generation and shrinking respect it. */
  default boolean precondition(S state) {
    return true;
  }

  /**
   * The postcondition and the model transition in one, for a command that returned: the state
   * after this command if {@code result} is what the model allows in {@code state}, else empty.
   *
   * @param state the model state before
   * @param result what the command returned; null is a value like any other, never "no response"
   * @return the state after, or empty if the model does not allow {@code result}
   */
  Optional<S> apply(S state, Object result);

  /**
   * The model transition for a command whose result nobody saw (it never responded): the state
   * as if it took effect. Linearizability also tries it never taking effect.
   *
   * @param state the model state before
   * @return the state after it took effect, or empty if it cannot take effect in {@code state}
   */
  Optional<S> applyUnknown(S state);

  /** Runs the command; the stage yields its result (never throws: map errors to results). */
  CompletionStage<Object> run(R system);

  /** The part of the state it touches (a key), for partitioned linearizability; null for all. */
  default Object partition() {
    return null;
  }

  /** Simpler variants to try while shrinking. */
  default List<Command<S, R>> shrinks() {
    return List.of();
  }
}
