package dev.statewright.cache;

import dev.statewright.lifecycle.Transition;
import java.util.List;

/**
 * Metrics and monitoring SPI: told of transitions, builds and releases, on the thread that caused
 * them, after the entry's state word changed and outside any lock. Every method defaults to doing
 * nothing; a listener that throws is logged and otherwise ignored.
 *
 * <p>A listener that blocks delays no other key's build: what is told before a build's factory
 * call (the transition to REBUILDING, {@link #onBuildStarted}) counts against the build timeout,
 * as the call itself does, and everything else is told after the build's bulkhead permit is back.
 *
 * <p>Transitions of one key made on different threads may be reported in a different order than
 * they were made (a listener runs after the CAS, not under a lock); each carries its from and to
 * states, and {@link ClientCache#snapshot} always shows the current one.
 *
 * @param <K> the key type
 */
public interface CacheListener<K> {

  /**
   * An entry moved between states (or stayed, for self-loops such as coalesced updates).
   *
   * @param key the entry's key
   * @param transition the state left, the event and the state entered
   */
  default void onTransition(K key, Transition<EntryState, EntryEvent> transition) { }

  /**
   * The factory is about to be called for {@code key} at {@code version}.
   *
   * @param key the key being built
   * @param version the version of the spec the build is for
   */
  default void onBuildStarted(K key, long version) { }

  /**
   * The factory returned or failed; {@code error} is null on success. Told once the outcome is
   * applied and the build's permit is back.
   *
   * @param key the key built
   * @param version the version of the spec the build was for
   * @param nanos how long the build took, in {@code Scheduler.nanoTime()} nanoseconds
   * @param error what the factory threw or failed with (a NullPointerException if it returned
   *     null); null if it returned a client
   */
  default void onBuildFinished(K key, long version, long nanos, Throwable error) { }

  /**
   * A client built for {@code version} was released: no lease holds it any more.
   *
   * @param key the key the client was built for
   * @param version the version of the spec it was built from
   */
  default void onClientReleased(K key, long version) { }

  /**
   * With the builder's {@code leaseWarning(d)}: {@code holders} still hold leases on the client of
   * {@code key} built for {@code version}, {@code d} after it was replaced or removed (also logged).
   *
   * @param key the key whose replaced client is still leased
   * @param version the version of the spec that client was built from
   * @param holders the holders of the leases still open on it, one entry per lease
   */
  default void onLeasesPinned(K key, long version, List<String> holders) { }

  /**
   * A source reported an unusable spec for {@code key}.
   *
   * @param key the key whose change was rejected; it keeps what it serves
   * @param problem why the source could not use it, also recorded as the key's last error
   */
  default void onRejected(K key, Exception problem) { }
}
