package dev.statewright.lifecycle;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * One instance of a {@link Lifecycle}: a single state word changed only by compare-and-set.
 *
 * <p>Memory consistency effects: actions in a thread prior to a successful {@link #fire} or
 * {@link #fireIf} <i>happen-before</i> actions following a read of {@link #state()} that returns
 * the new state.
 *
 * @param <S> the state type
 * @param <E> the event type
 */
public final class StateMachine<S extends Enum<S>, E extends Enum<E>> {
  /*
   * Overview: the whole state is one volatile int, the state's row in the lifecycle's flat table
   * (its ordinal times the number of events); that row plus an event's ordinal indexes the
   * target's row, with no multiplication on the way to the CAS.
   *
   * Concurrency: a transition reads the state, asks the lifecycle where the event leads, and CASes
   * the word; a lost race re-reads and tries again, so every event is applied to the state it was
   * checked against. The listener runs after the CAS, on the firing thread, outside any lock.
   *
   * Transitions: whatever the lifecycle permits; a terminal state is never left.
   *
   * Why the engine's own lifecycles do not use it: each of them must change its state together
   * with other data in one atomic step, and a StateMachine's word holds the state alone. A cache
   * entry's state is one field of an immutable Node (desired and served spec, build, waiters),
   * installed by one CAS; a LeasedResource (and so a Staged item, whose lifecycle is the lease's)
   * packs its state with its lease count in one long. Splitting any of them into this word plus other
   * fields would open a window between two writes. They share what matters instead: each checks
   * every move against its Lifecycle (Lifecycle.step), the same table a StateMachine uses and
   * the spec tests compare with. StateMachine is for users' lifecycles whose state is the whole
   * story, and is what the kernel benchmark measures.
   *
   * Ordering of this file: fields, queries, transitions, helpers.
   */
  private static final System.Logger LOG = System.getLogger(StateMachine.class.getName());
  private static final VarHandle ROW;

  static {
    try {
      ROW = MethodHandles.lookup().findVarHandle(StateMachine.class, "row", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Lifecycle<S, E> lifecycle;
  /** The lifecycle's hot-path table and states by row, held here to save a load per transition. */
  private final int[] next;
  private final S[] byRow;
  private final Object key;
  /** Null when nobody listens, so the hot path skips the Transition it would be told. */
  private final TransitionListener<S, E> listener;
  /** The state's row: an int word, so a transition is an int CAS (no GC barrier). */
  @SuppressWarnings("unused") // accessed through ROW
  private volatile int row;

  StateMachine(Lifecycle<S, E> lifecycle, Object key, TransitionListener<S, E> listener) {
    this.lifecycle = lifecycle;
    this.next = lifecycle.next();
    this.byRow = lifecycle.byRow();
    this.key = Objects.requireNonNull(key, "key");
    this.listener = listener; // null: nobody listens (Lifecycle.newMachine(key))
    this.row = lifecycle.row(lifecycle.initial());
  }

  /**
   * The current state.
   *
   * @return the state after the last transition made, as a volatile read
   */
  public S state() {
    return byRow[row];
  }

  /**
   * The instance this machine belongs to.
   *
   * @return the key given to {@link Lifecycle#newMachine}, never null
   */
  public Object key() {
    return key;
  }

  /**
   * The table this machine follows.
   *
   * @return the lifecycle that made this machine
   */
  public Lifecycle<S, E> lifecycle() {
    return lifecycle;
  }

  /**
   * Applies {@code event} to the current state.
   *
   * @param event the event to fire; not null
   * @return the new state
   * @throws IllegalTransitionException if the event is not permitted in the current state
   */
  public S fire(E event) {
    int e = Objects.requireNonNull(event, "event").ordinal();
    for (;;) {
      int from = row;
      int to = next[from + e];
      if (to == Lifecycle.REFUSED) {
        throw lifecycle.refused(key, byRow[from], event);
      }
      if (ROW.compareAndSet(this, from, to)) {
        return moved(from, event, to);
      }
    }
  }

  /**
   * Applies {@code event} only if the machine is in {@code expected}.
   *
   * @param expected the state the caller believes the machine is in
   * @param event the event to fire
   * @return whether the transition was made
   * @throws IllegalTransitionException if the event is not permitted in {@code expected}
   */
  public boolean fireIf(S expected, E event) {
    int from = lifecycle.row(expected);
    int to = lifecycle.row(lifecycle.step(key, expected, event));
    if (!ROW.compareAndSet(this, from, to)) {
      return false;
    }
    moved(from, event, to);
    return true;
  }

  /** After the CAS from {@code from} to {@code to}: tells the listener, if any; the new state. */
  private S moved(int from, E event, int to) {
    S entered = byRow[to];
    if (listener != null) {
      notifyListener(new Transition<>(byRow[from], event, entered));
    }
    return entered;
  }

  private void notifyListener(Transition<S, E> transition) {
    try {
      listener.onTransition(key, transition);
    } catch (Throwable t) { // any Throwable, an Error included: the transition is made
      LOG.log(System.Logger.Level.WARNING, () -> lifecycle.name() + " '" + key
          + "': transition listener failed on " + transition, t);
    }
  }

  @Override
  public String toString() {
    return lifecycle.name() + "[" + key + ": " + state() + "]";
  }
}
