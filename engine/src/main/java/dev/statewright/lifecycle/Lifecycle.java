package dev.statewright.lifecycle;

import java.lang.reflect.Array;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable, validated transition table: which event leads from which state to which. Built
 * once by {@link #builder}; shared by every {@link StateMachine} of its kind and exported as the
 * Mermaid {@code stateDiagram-v2} block the specs in {@code specs/} hold.
 *
 * <p>{@link Builder#build()} refuses a table with a state unreachable from the initial state, a
 * terminal state with an exit, a non-terminal state without one, or two targets for one event.
 *
 * <p>Instances are immutable and safe to share between threads.
 *
 * @param <S> the state type
 * @param <E> the event type
 */
public final class Lifecycle<S extends Enum<S>, E extends Enum<E>> {
  /** In {@link #next}: the event is not permitted in the state. */
  static final int REFUSED = -1;

  private final String name;
  private final S initial;
  private final EnumSet<S> terminal;
  private final Map<S, Map<E, S>> table;
  /**
   * The hot path's table. A state's row is its ordinal times the number of events (at least one),
   * so that a row plus an event's ordinal indexes it with no multiplication: next[row + event] is
   * the target's row, or {@link #REFUSED}; byRow[row] is the state of that row (null between rows).
   */
  private final int stride;
  private final int[] next;
  private final S[] byRow;
  private final List<Transition<S, E>> transitions;

  private Lifecycle(Builder<S, E> builder) {
    this.name = builder.name;
    this.initial = builder.initial;
    this.terminal = EnumSet.copyOf(builder.terminal);
    this.transitions = List.copyOf(builder.transitions);
    Map<S, Map<E, S>> byState = new EnumMap<>(builder.stateType);
    for (Transition<S, E> t : transitions) {
      byState.computeIfAbsent(t.from(), s -> new EnumMap<>(builder.eventType)).put(t.event(), t.to());
    }
    byState.replaceAll((state, exits) -> Collections.unmodifiableMap(exits));
    this.table = Collections.unmodifiableMap(byState);
    S[] states = builder.stateType.getEnumConstants();
    this.stride = Math.max(1, builder.eventType.getEnumConstants().length);
    this.next = new int[states.length * stride];
    Arrays.fill(next, REFUSED);
    transitions.forEach(t -> next[row(t.from()) + t.event().ordinal()] = row(t.to()));
    @SuppressWarnings("unchecked") // an array of the state enum's own type
    S[] rows = (S[]) Array.newInstance(builder.stateType, next.length);
    for (S state : states) {
      rows[row(state)] = state;
    }
    this.byRow = rows;
  }

  /**
   * Starts a lifecycle named {@code name} over the given state and event enums.
   *
   * @param <S> the state type
   * @param <E> the event type
   * @param name the lifecycle's name, used in messages, JFR events and the Mermaid diagram; not
   *     blank
   * @param stateType the enum of states; every constant must be reachable and either terminal or
   *     left by a transition
   * @param eventType the enum of events
   * @return an empty builder
   * @throws IllegalArgumentException if {@code name} is null or blank
   * @throws NullPointerException if {@code stateType} or {@code eventType} is null
   */
  public static <S extends Enum<S>, E extends Enum<E>> Builder<S, E> builder(
      String name, Class<S> stateType, Class<E> eventType) {
    return new Builder<>(name, stateType, eventType);
  }

  /**
   * The lifecycle's name, used in messages and diagrams.
   *
   * @return the name given to {@link #builder}, never blank
   */
  public String name() {
    return name;
  }

  /**
   * The state every new machine starts in.
   *
   * @return the initial state, never null
   */
  public S initial() {
    return initial;
  }

  /**
   * Whether {@code state} has no exits.
   *
   * @param state any state of this lifecycle
   * @return true if the state was marked terminal: no event is permitted there
   */
  public boolean isTerminal(S state) {
    return terminal.contains(state);
  }

  /**
   * Every transition, in declaration order.
   *
   * @return an immutable list, in the order of the builder's {@code permit} calls
   */
  public List<Transition<S, E>> transitions() {
    return transitions;
  }

  /**
   * The state {@code event} leads to from {@code state}, if it is permitted there.
   *
   * @param state the state the event would be fired in
   * @param event the event
   * @return the target state; empty if {@code event} is not permitted in {@code state}
   */
  public Optional<S> next(S state, E event) {
    int to = target(state, event);
    return to == REFUSED ? Optional.empty() : Optional.of(byRow[to]);
  }

  /**
   * The events permitted in {@code state}.
   *
   * @param state any state of this lifecycle
   * @return an unmodifiable set; empty for a terminal state
   * @throws NullPointerException if {@code state} is null
   */
  public Set<E> permitted(S state) {
    return exits(state).keySet();
  }

  /**
   * The state {@code event} leads to from {@code state}.
   *
   * @param key the instance the event is fired at, named in the exception's message
   * @param state the state the event is fired in
   * @param event the event
   * @return the target state, never null
   * @throws IllegalTransitionException naming {@code key} if the event is not permitted there
   */
  public S step(Object key, S state, E event) {
    int to = target(state, event);
    if (to == REFUSED) {
      throw refused(key, state, event);
    }
    return byRow[to];
  }

  /**
   * A new machine for the instance {@code key}, in the initial state.
   *
   * @param key the instance the machine belongs to, named in messages and passed to the listener;
   *     not null
   * @param listener told of every transition the machine makes, on the thread that made it
   * @return the machine
   * @throws NullPointerException if {@code key} or {@code listener} is null
   */
  public StateMachine<S, E> newMachine(Object key, TransitionListener<S, E> listener) {
    return new StateMachine<>(this, key, Objects.requireNonNull(listener, "listener"));
  }

  /**
   * A new machine for the instance {@code key}, in the initial state, that tells nobody of its
   * transitions: its {@code fire} allocates nothing.
   *
   * @param key the instance the machine belongs to
   * @return the machine
   */
  public StateMachine<S, E> newMachine(Object key) {
    return new StateMachine<>(this, key, null);
  }

  /**
   * This table as a Mermaid {@code stateDiagram-v2} block, without the code fence.
   *
   * @return the diagram, one line per transition in declaration order, each ending in a newline:
   *     the initial arrow first, the terminal arrows last
   */
  public String toMermaid() {
    StringBuilder out = new StringBuilder("stateDiagram-v2\n");
    out.append("    [*] --> ").append(initial).append('\n');
    for (Transition<S, E> t : transitions) {
      out.append("    ").append(t.from()).append(" --> ").append(t.to())
          .append(" : ").append(t.event()).append('\n');
    }
    for (S state : terminal) {
      out.append("    ").append(state).append(" --> [*]\n");
    }
    return out.toString();
  }

  /** The row of the state {@code event} leads to from {@code state}, or {@link #REFUSED}. */
  private int target(S state, E event) {
    return next[row(state) + event.ordinal()];
  }

  /** The row of {@code state} in the hot path's table. */
  int row(S state) {
    return state.ordinal() * stride;
  }

  /** The hot path's table of targets: next[row + event] is the target's row, or REFUSED. */
  int[] next() {
    return next;
  }

  /** The hot path's states: byRow[row] is the state of that row. */
  S[] byRow() {
    return byRow;
  }

  IllegalTransitionException refused(Object key, S state, E event) {
    return new IllegalTransitionException(name, key, state, event, permitted(state));
  }

  private Map<E, S> exits(S state) {
    return table.getOrDefault(Objects.requireNonNull(state, "state"), Map.of());
  }

  @Override
  public String toString() {
    return "Lifecycle[" + name + ", " + transitions.size() + " transitions]";
  }

  /**
   * Collects transitions, then validates them in {@link #build()}. Not thread-safe.
   *
   * @param <S> the state type
   * @param <E> the event type
   */
  public static final class Builder<S extends Enum<S>, E extends Enum<E>> {
    private final String name;
    private final Class<S> stateType;
    private final Class<E> eventType;
    private final List<Transition<S, E>> transitions = new ArrayList<>();
    private final EnumSet<S> terminal;
    private S initial;

    private Builder(String name, Class<S> stateType, Class<E> eventType) {
      this.name = requireName(name);
      this.stateType = Objects.requireNonNull(stateType, "stateType");
      this.eventType = Objects.requireNonNull(eventType, "eventType");
      this.terminal = EnumSet.noneOf(stateType);
    }

    /**
     * The state new machines start in.
     *
     * @param state the initial state; a later call replaces it
     * @return this builder
     * @throws NullPointerException if {@code state} is null
     */
    public Builder<S, E> initial(S state) {
      this.initial = Objects.requireNonNull(state, "state");
      return this;
    }

    /**
     * In {@code from}, {@code event} leads to {@code to}.
     *
     * @param from the state the event is permitted in
     * @param event the event
     * @param to the state it leads to; may equal {@code from}
     * @return this builder
     * @throws IllegalArgumentException if {@code event} in {@code from} already leads somewhere
     * @throws NullPointerException if any argument is null
     */
    public Builder<S, E> permit(S from, E event, S to) {
      Transition<S, E> transition = new Transition<>(from, event, to);
      for (Transition<S, E> t : transitions) {
        if (t.from() == from && t.event() == event) {
          throw new IllegalArgumentException(name + ": " + event + " in " + from
              + " already leads to " + t.to() + "; cannot also lead to " + to);
        }
      }
      transitions.add(transition);
      return this;
    }

    /**
     * Marks states that have no exits.
     *
     * @param states the terminal states; {@link #build()} fails if one of them has a transition
     * @return this builder
     * @throws NullPointerException if any state is null
     */
    @SafeVarargs
    public final Builder<S, E> terminal(S... states) {
      for (S state : states) {
        terminal.add(Objects.requireNonNull(state, "state"));
      }
      return this;
    }

    /**
     * Validates the table and freezes it.
     *
     * @return the immutable lifecycle; the builder may be reused but the lifecycle does not change
     * @throws IllegalStateException if there is no initial state, a terminal state has exits, a
     *     state that is not terminal has none, or a state is unreachable from the initial one
     */
    public Lifecycle<S, E> build() {
      if (initial == null) {
        throw new IllegalStateException(name + ": no initial state");
      }
      EnumSet<S> withExits = EnumSet.noneOf(stateType);
      transitions.forEach(t -> withExits.add(t.from()));
      for (S state : stateType.getEnumConstants()) {
        if (terminal.contains(state) && withExits.contains(state)) {
          throw new IllegalStateException(name + ": terminal state " + state + " has exits");
        }
        if (!terminal.contains(state) && !withExits.contains(state)) {
          throw new IllegalStateException(name + ": state " + state
              + " has no exits; mark it terminal or give it a transition");
        }
      }
      EnumSet<S> unreachable = EnumSet.complementOf(reachable());
      if (!unreachable.isEmpty()) {
        throw new IllegalStateException(name + ": unreachable from " + initial + ": " + unreachable);
      }
      return new Lifecycle<>(this);
    }

    private EnumSet<S> reachable() {
      EnumSet<S> seen = EnumSet.of(initial);
      ArrayDeque<S> frontier = new ArrayDeque<>(seen);
      while (!frontier.isEmpty()) {
        S state = frontier.pop();
        for (Transition<S, E> t : transitions) {
          if (t.from() == state && seen.add(t.to())) {
            frontier.push(t.to());
          }
        }
      }
      return seen;
    }

    private static String requireName(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("a lifecycle needs a non-blank name");
      }
      return name;
    }
  }
}
