package dev.statewright.lifecycle;

import java.util.Objects;

/**
 * One edge of a {@link Lifecycle}: in state {@code from}, {@code event} leads to {@code to}.
 *
 * @param <S> the state type
 * @param <E> the event type
 */
public record Transition<S extends Enum<S>, E extends Enum<E>>(S from, E event, S to) {

  /**
   * Checks that no component is null.
   *
   * @param from the state the edge leaves
   * @param event the event that takes it
   * @param to the state it enters; may equal {@code from}
   * @throws NullPointerException if any component is null
   */
  public Transition {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(event, "event");
    Objects.requireNonNull(to, "to");
  }

  @Override
  public String toString() {
    return from + " --" + event + "--> " + to;
  }
}
