package dev.statewright.lifecycle;

/**
 * Told of every transition a machine makes, after the state word has changed and outside any
 * lock. A listener that throws is logged and otherwise ignored: it cannot undo a transition.
 *
 * @param <S> the state type
 * @param <E> the event type
 */
@FunctionalInterface
public interface TransitionListener<S extends Enum<S>, E extends Enum<E>> {

  /**
   * Called once per transition, on the thread that made it.
   *
   * @param key the instance whose machine moved (a cache key, a resource name)
   * @param transition the state left, the event fired and the state entered
   */
  void onTransition(Object key, Transition<S, E> transition);
}
