package dev.statewright.lifecycle;

import java.util.Set;

/**
 * An event was fired in a state whose {@link Lifecycle} does not permit it. The message names the
 * machine, the instance, the current state, the event and the events permitted there.
 */
public final class IllegalTransitionException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /** The name of the lifecycle that refused the event. */
  private final String machine;
  private final transient Object key;
  /** The state the event was fired in. */
  private final Enum<?> state;
  /** The refused event. */
  private final Enum<?> event;
  /** The events the state permits; empty for a terminal state. */
  private final Set<Enum<?>> permitted;

  IllegalTransitionException(String machine, Object key, Enum<?> state, Enum<?> event,
      Set<? extends Enum<?>> permitted) {
    super(machine + " '" + key + "': event " + event + " is not permitted in state " + state
        + (permitted.isEmpty() ? " (a terminal state: nothing is permitted there)"
            : " (permitted there: " + permitted + ")"));
    this.machine = machine;
    this.key = key;
    this.state = state;
    this.event = event;
    this.permitted = Set.copyOf(permitted);
  }

  /**
   * The lifecycle's name.
   *
   * @return the name of the lifecycle that refused the event
   */
  public String machine() {
    return machine;
  }

  /**
   * The instance the event was fired at.
   *
   * @return the machine's key; null after deserialization (the key is not serialized)
   */
  public Object key() {
    return key;
  }

  /**
   * The state the instance was in.
   *
   * @return the state the event was fired in
   */
  public Enum<?> state() {
    return state;
  }

  /**
   * The refused event.
   *
   * @return the event that is not permitted in {@link #state()}
   */
  public Enum<?> event() {
    return event;
  }

  /**
   * The events that state permits.
   *
   * @return an immutable set; empty if the state is terminal
   */
  public Set<Enum<?>> permitted() {
    return permitted;
  }
}
