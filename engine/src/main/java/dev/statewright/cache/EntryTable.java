package dev.statewright.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * The cache's entries and the one update core through which every change goes: a key's entry is
 * one volatile reference to an immutable {@link Node}, and a change is {@code f(node)} installed
 * by CAS, its effects run once after it.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
final class EntryTable<K, S, C> {
  /*
   * Overview: the map of Entry, the closed flag and the update core; ClientCache holds one and
   * hands it to the parts below (EventIntake, BuildLauncher, LeaseIssuer, UpdateEffects), which
   * never name ClientCache.
   *
   * Concurrency: every change, an insert and a tombstone's replacement included, is one update:
   * f(node) CASed into the Entry (or, for a new incarnation, into the map's slot), retried on a
   * lost race; f may run more than once, its effects run once after the CAS (Effects). No lock
   * anywhere, so user code never runs under one. close() and an insert each re-check the other
   * (the closed flag against the map slot). Transitions: Node.LIFECYCLE, listed in Node.
   *
   * Ordering of this file: fields, reads, the update core, close, names for messages.
   */

  /**
   * What an update does after its CAS, once, on the thread that won it; see UpdateEffects.
   *
   * @param <K> the key type
   * @param <S> the spec type
   * @param <C> the client type
   */
  @FunctionalInterface
  interface Effects<K, S, C> {
    /** Runs the effects of {@code prev -> next} in {@code entry}; {@code reborn}: a new incarnation. */
    void afterUpdate(Entry<K, S, C> entry, Node<K, S, C> prev, Node<K, S, C> next,
        List<Waiter<K, S, C>> settled, boolean reborn);
  }

  private static final VarHandle CLOSED;

  static {
    try {
      CLOSED = MethodHandles.lookup().findVarHandle(EntryTable.class, "closed", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String cacheName;
  private final ConcurrentHashMap<K, Entry<K, S, C>> map = new ConcurrentHashMap<>();
  /** Set once, through CLOSED; a field of its own, not an object, since every snapshot reads it. */
  private volatile boolean closed;
  private final Effects<K, S, C> effects;

  EntryTable(String cacheName, Effects<K, S, C> effects) {
    this.cacheName = cacheName;
    this.effects = effects;
  }

  // ---------------------------------------------------------------- reads

  /** The entry of {@code key}, live or a tombstone; null if there is none. */
  Entry<K, S, C> get(K key) {
    return map.get(key);
  }

  /** Every entry, live or a tombstone; weakly consistent, as the map's iteration is. */
  Iterable<Entry<K, S, C>> entries() {
    return map.values();
  }

  /**
   * {@code node} as a read may show it: once the cache is closed, removed. A key inserted as close()
   * ran is live from its CAS until its own update removes it; no read after close() sees that.
   */
  Node<K, S, C> visible(Node<K, S, C> node) {
    return node.isLive() && closed() ? node.removedIfLive() : node;
  }

  /** Entries in the map, tombstones included. */
  int size() {
    return map.size();
  }

  // ---------------------------------------------------------------- the update core

  /**
   * Installs {@code f(node)} in {@code entry} by CAS, retrying on a lost race, then runs the
   * effects exactly once. {@code f} may run more than once and must be pure; it changes only this
   * incarnation of the key (a tombstone given to it should be returned as is).
   */
  Update<K, S, C> update(Entry<K, S, C> entry, UnaryOperator<Node<K, S, C>> f) {
    Update<K, S, C> u;
    do {
      u = attempt(entry.key, entry, entry.node(), f, false);
    } while (u == null); // lost a race: f again, on the node that won
    return u;
  }

  /**
   * As {@link #update(Entry, UnaryOperator)}, on whatever occupies {@code key}'s slot: {@code f} is
   * given null for no entry and the tombstone for a removed key, and a node it returns for either
   * takes the slot as a new incarnation (a first insert, a re-add, a newer tombstone).
   */
  Update<K, S, C> update(K key, UnaryOperator<Node<K, S, C>> f) {
    Update<K, S, C> u;
    do {
      Entry<K, S, C> entry = map.get(key);
      Node<K, S, C> prev = entry == null ? null : entry.node();
      u = attempt(key, entry, prev, f, prev == null || !prev.isLive());
    } while (u == null); // lost a race for the entry or the slot: read the slot again
    return u;
  }

  /**
   * One CAS of {@code f(prev)} into {@code entry}, or, {@code reborn}, of a new Entry into the
   * map's slot in place of {@code entry} (null, or a tombstone); null if the race was lost.
   */
  private Update<K, S, C> attempt(K key, Entry<K, S, C> entry, Node<K, S, C> prev,
      UnaryOperator<Node<K, S, C>> f, boolean reborn) {
    Node<K, S, C> next = f.apply(prev);
    if (next == prev) {
      return new Update<>(entry, prev, prev);
    }
    List<Waiter<K, S, C>> settled = next.settledWaiters();
    next = settled.isEmpty() ? next : next.without(settled);
    Entry<K, S, C> target = reborn ? new Entry<>(next) : entry;
    boolean won = !reborn ? entry.compareAndSet(prev, next)
        : entry == null ? map.putIfAbsent(key, target) == null
        : map.replace(key, entry, target);
    if (!won) {
      return null;
    }
    effects.afterUpdate(target, prev, next, settled, reborn);
    return new Update<>(target, prev, next);
  }

  /** Removes {@code tombstone} from the map, if it is still there: its retention is over. */
  void forget(Entry<K, S, C> tombstone) {
    map.remove(tombstone.key, tombstone);
  }

  // ---------------------------------------------------------------- close

  /**
   * Marks the table closed; true for the one call that did. Inserts re-check it after their CAS,
   * and reads show a live node as removed once it is set ({@link #visible}).
   */
  boolean close() {
    return CLOSED.compareAndSet(this, false, true);
  }

  /** Whether the cache is closed. */
  boolean closed() {
    return closed;
  }

  // ---------------------------------------------------------------- names for messages

  /** The cache's name, for messages. */
  String cacheName() {
    return cacheName;
  }

  /** Why {@code key} has no live entry (never seen, removed, or the cache closed). */
  RuntimeException missing(Object key, Entry<K, S, C> entry) {
    if (closed()) {
      return closedError(cacheName);
    }
    if (entry == null) {
      return new NoSuchElementException("no entry for '" + key + "' in " + cacheName);
    }
    return new NoSuchElementException("'" + key + "' was removed from " + cacheName
        + " at version " + entry.node().desiredVersion);
  }

  /** What an operation on a closed cache fails with. */
  static IllegalStateException closedError(String cacheName) {
    return new IllegalStateException(cacheName + " is closed");
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
