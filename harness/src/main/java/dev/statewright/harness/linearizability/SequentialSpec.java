package dev.statewright.harness.linearizability;

import java.util.Optional;

/**
 * The sequential reference a history is checked against. States must be immutable values with
 * {@code equals} and {@code hashCode}: the checker memoises on them.
 *
 * @param <S> the state type
 */
public interface SequentialSpec<S> {

  /** The state before any operation (of one partition). */
  S initial();

  /**
   * The state after {@code input} if {@code output} is what the reference would return in
   * {@code state}; empty if it would not. A null {@code output} is a pending operation: return
   * the state after it as if it took effect.
   */
  Optional<S> apply(S state, Object input, Object output);
}
