package dev.statewright.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** One key's state word: a volatile reference to an immutable {@link Node}, changed only by CAS. */
final class Entry<K, S, C> {
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
    this.key = node.key;
    this.node = node;
  }

  Node<K, S, C> node() {
    return node;
  }

  boolean compareAndSet(Node<K, S, C> expected, Node<K, S, C> next) {
    return NODE.compareAndSet(this, expected, next);
  }
}
