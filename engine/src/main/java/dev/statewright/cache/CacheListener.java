package dev.statewright.cache;

import dev.statewright.lifecycle.Transition;
import java.util.List;

/**
 * Metrics and monitoring SPI: told of transitions, builds and releases, on the thread that caused
 * them, after the entry's state word changed and outside any lock. Every method defaults to doing
 * nothing; a listener that throws is logged and otherwise ignored.
 *
 * <p>Transitions of one key made on different threads may be reported in a different order than
 * they were made (a listener runs after the CAS, not under a lock); each carries its from and to
 * states, and {@link ClientCache#snapshot} always shows the current one.
 *
 * @param <K> the key type
 */
public interface CacheListener<K> {

  /** An entry moved between states (or stayed, for self-loops such as coalesced updates). */
  default void onTransition(K key, Transition<EntryState, EntryEvent> transition) { }

  /** The factory is about to be called for {@code key} at {@code version}. */
  default void onBuildStarted(K key, long version) { }

  /** The factory returned or failed; {@code error} is null on success. */
  default void onBuildFinished(K key, long version, long nanos, Throwable error) { }

  /** A client built for {@code version} was released: no lease holds it any more. */
  default void onClientReleased(K key, long version) { }

  /**
   * With the builder's {@code leaseWarning(d)}: {@code holders} still hold leases on the client of
   * {@code key} built for {@code version}, {@code d} after it was replaced or removed (also logged).
   */
  default void onLeasesPinned(K key, long version, List<String> holders) { }

  /** A source reported an unusable spec for {@code key}. */
  default void onRejected(K key, Exception problem) { }
}
