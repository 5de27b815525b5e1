package dev.statewright.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The counts one key keeps across all its incarnations (a tombstone hands them to a re-add), with
 * the key: its value, as an {@link AtomicInteger}, is the number of abandoned factory calls that
 * have not returned ({@link BuildRun} counts them there, C8), and {@link #retiredInUse} the
 * clients superseded but not yet released (C6). One object, not two counters, because every entry
 * keeps one.
 *
 * @param <K> the key type
 */
final class KeyCounts<K> extends AtomicInteger {
  /*
   * Concurrency: both counts change by atomic adds only, from any thread; a snapshot reads each
   * once. Transitions: none.
   */
  private static final long serialVersionUID = 1L;
  private static final VarHandle RETIRED;

  static {
    try {
      RETIRED = MethodHandles.lookup().findVarHandle(KeyCounts.class, "retired", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The key; never serialized (nothing serializes these counts). */
  final transient K key;
  @SuppressWarnings("unused") // accessed through RETIRED
  private volatile int retired;

  KeyCounts(K key) {
    this.key = key;
  }

  /** Abandoned factory calls of this key that have not returned. */
  int abandonedRunning() {
    return get();
  }

  /** Clients of this key superseded but not yet released. */
  int retiredInUse() {
    return retired;
  }

  /** A client of this key was superseded: counted until it is released. */
  void clientRetired() {
    RETIRED.getAndAdd(this, 1);
  }

  /** A superseded client of this key was released. */
  void clientReleased() {
    RETIRED.getAndAdd(this, -1);
  }
}
