package dev.statewright.cache;

import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentMap;
import java.util.function.UnaryOperator;

/**
 * The cache's entries as the parts below {@code ClientCache} see them: a read of a key's entry,
 * and the one update core through which every change goes. Implemented by the cache itself;
 * the interface keeps the arrows pointing down (the build launcher, the lease issuer and the event
 * intake never name {@code ClientCache}).
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
interface EntryTable<K, S, C> {
  /** The cache's map of entries; read it, but change a slot only through an update. */
  ConcurrentMap<K, Entry<K, S, C>> map();

  /** The entry of {@code key}, live or a tombstone; null if there is none. */
  default Entry<K, S, C> get(K key) {
    return map().get(key);
  }

  /** Every entry, live or a tombstone; weakly consistent, as the map's iteration is. */
  default Iterable<Entry<K, S, C>> entries() {
    return map().values();
  }

  /**
   * Installs {@code f(node)} in {@code entry} by CAS, retrying on a lost race, then runs the
   * effects exactly once. {@code f} may run more than once and must be pure; it changes only this
   * incarnation of the key (a tombstone given to it should be returned as is).
   */
  Update<K, S, C> update(Entry<K, S, C> entry, UnaryOperator<Node<K, S, C>> f);

  /**
   * As {@link #update(Entry, UnaryOperator)}, on whatever occupies {@code key}'s slot: {@code f} is
   * given null for no entry and the tombstone for a removed key, and a node it returns for either
   * takes the slot as a new incarnation (a first insert, a re-add, a newer tombstone).
   */
  Update<K, S, C> update(K key, UnaryOperator<Node<K, S, C>> f);

  /** The cache's name, for messages. */
  String cacheName();

  /** Whether the cache is closed. */
  boolean closed();

  /** Why {@code key} has no live entry (never seen, removed, or the cache closed). */
  default RuntimeException missing(Object key, Entry<K, S, C> entry) {
    if (closed()) {
      return closedError(cacheName());
    }
    if (entry == null) {
      return new NoSuchElementException("no entry for '" + key + "' in " + cacheName());
    }
    return new NoSuchElementException("'" + key + "' was removed from " + cacheName()
        + " at version " + entry.node().desiredVersion);
  }

  /** What an operation on a closed cache fails with. */
  static IllegalStateException closedError(String cacheName) {
    return new IllegalStateException(cacheName + " is closed");
  }

  /** Removes {@code tombstone} from the map, if it is still there: its retention is over. */
  default void forget(Entry<K, S, C> tombstone) {
    map().remove(tombstone.key, tombstone);
  }

  /**
   * The two nodes of one update and the entry that holds the second; {@code prev == next} when
   * {@code f} changed nothing. {@code prev} is null when the key had no entry.
   */
  record Update<K, S, C>(Entry<K, S, C> entry, Node<K, S, C> prev, Node<K, S, C> next) {
    boolean changed() {
      return prev != next;
    }
  }
}
