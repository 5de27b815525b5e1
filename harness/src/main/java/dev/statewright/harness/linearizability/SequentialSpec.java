package dev.statewright.harness.linearizability;

import java.util.Optional;

/**
 * The sequential reference a history is checked against. States must be immutable values with
 * {@code equals} and {@code hashCode}: the checker memoises on them.
 *
 * @param <S> the state type
 * @param <I> the input type
 * @param <O> the output type
 */
public interface SequentialSpec<S, I, O> {

  /**
   * The state before any operation (of one partition).
   *
   * @return the initial state
   */
  S initial();

  /**
   * An operation that returned: the state after {@code input} if {@code output} is what the
   * reference may return in {@code state}.
   *
   * @param state the state before
   * @param input what was asked
   * @param output what came back (null is a value, never "no response")
   * @return the state after, or empty if the reference cannot return {@code output} here
   */
  Optional<S> step(S state, I input, O output);

  /**
   * An operation with an unknown result, placed here in the order: the state after {@code input}
   * took effect, whatever it returned. (The checker also tries never placing it.)
   *
   * @param state the state before
   * @param input what was asked
   * @return the state after, or empty if {@code input} cannot take effect in {@code state}
   */
  Optional<S> stepUnknown(S state, I input);
}
