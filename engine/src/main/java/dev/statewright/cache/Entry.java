package dev.statewright.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One key's state word: a volatile reference to an immutable {@link Node}, changed only by CAS.
 *
 * <p>Memory consistency effects: everything a thread did before a successful
 * {@link #compareAndSet} <i>happens-before</i> anything a thread does after reading the node it
 * set through {@link #node()}.
 */
final class Entry<K, S, C> {
  /*
   * Overview: the whole mutable state of one incarnation of a key is this one reference. A node
   * is never changed in place; ClientCache's update core computes the next node from the current
   * one (a function that may run more than once) and installs it here by CAS, retrying on a lost
   * race. The effects of a change (UpdateEffects: launching a build, retiring a client, answering
   * waiters, calling user code) run after the CAS, on the thread that won it, outside any lock.
   *
   * Concurrency: readers (snapshot, list, acquire) read one volatile field and see one
   * consistent node. A deleted key keeps its Entry as a tombstone (a REMOVED node); a re-add
   * puts a new Entry in the map, so a late build of the old incarnation, which holds the old
   * Entry, can never touch the new one.
   *
   * Transitions: the node's state follows Node.LIFECYCLE (STALE -> REBUILDING -> CURRENT, any
   * live state -> REMOVED, terminal), by Node's named moves, checked by Node.Draft on every edit.
   *
   * Ordering of this file: the VarHandle, the fields, the read, the CAS.
   */
  private static final VarHandle NODE;

  static {
    try {
      NODE = MethodHandles.lookup().findVarHandle(Entry.class, "node", Node.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final K key;
  @SuppressWarnings("unused") // written through NODE
  private volatile Node<K, S, C> node;

  Entry(Node<K, S, C> node) {
    this.key = node.key();
    this.node = node;
  }

  Node<K, S, C> node() {
    return node;
  }

  boolean compareAndSet(Node<K, S, C> expected, Node<K, S, C> next) {
    return NODE.compareAndSet(this, expected, next);
  }
}
