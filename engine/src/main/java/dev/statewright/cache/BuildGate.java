package dev.statewright.cache;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The bulkhead: at most {@code permits} builds run at once across keys; entries that want a build
 * queue in arrival order. Lock-free: a permit is taken by CAS before an entry is polled, and given
 * back if the entry no longer wants to build, so neither permits nor wake-ups are lost.
 */
final class BuildGate {
  private final int capacity;
  private final AtomicInteger permits;
  private final Queue<Entry<?, ?, ?>> waiting = new ConcurrentLinkedQueue<>();
  private final Predicate<Entry<?, ?, ?>> start;

  /** {@code start} tries to start a build and says whether it took the permit. */
  BuildGate(int permits, Predicate<Entry<?, ?, ?>> start) {
    this.capacity = permits;
    this.permits = new AtomicInteger(permits);
    this.start = start;
  }

  /** Permits taken and not yet given back: a read for monitors, racy against concurrent builds. */
  int inUse() {
    return capacity - permits.get();
  }

  void request(Entry<?, ?, ?> entry) {
    waiting.add(entry);
    drain();
  }

  void release() {
    permits.incrementAndGet();
    drain();
  }

  private void drain() {
    while (!waiting.isEmpty()) {
      int available = permits.get();
      if (available == 0) {
        return; // whoever holds a permit drains again when it gives it back
      }
      if (permits.compareAndSet(available, available - 1)) {
        Entry<?, ?, ?> next = waiting.poll();
        if (next == null || !start.test(next)) {
          permits.incrementAndGet();
        }
      }
    }
  }
}
