package dev.statewright.cache;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The bulkhead: at most {@code permits} builds run at once across keys; entries that want a build
 * queue in arrival order. Lock-free, never recursive, and no permit or wake-up is ever lost.
 */
final class BuildGate {
  /*
   * Overview: a permit counter, a queue of entries waiting for a permit, and a drain-status word
   * that makes draining single-flight (Caffeine's BoundedLocalCache drainStatus).
   *
   * Concurrency: `request` and `release` change the queue or the counter, then call `drain`. One
   * thread at a time drains: it takes a permit by CAS before polling an entry and gives it back
   * if the entry no longer wants to build. Starting a build runs the engine's effects, and an
   * asynchronous factory may complete at once, so a build can finish, release its permit and ask
   * for a drain on the draining thread itself, inside `start`. That nested drain (or one on
   * another thread) only marks the status PROCESSING_TO_REQUIRED and returns; the draining thread
   * sees the mark and loops again. The stack therefore never grows with the queue (it used to
   * recurse once per queued key and overflow), and a release during a drain is never missed: the
   * drainer leaves only by CAS from PROCESSING_TO_IDLE to IDLE, which fails after any new mark.
   *
   * Transitions of the drain status (one word, CAS only):
   *   IDLE                   -> PROCESSING_TO_IDLE      a thread starts draining
   *   PROCESSING_TO_IDLE     -> PROCESSING_TO_REQUIRED  work arrived during the drain
   *   PROCESSING_TO_REQUIRED -> PROCESSING_TO_IDLE      the drainer loops again
   *   PROCESSING_TO_IDLE     -> IDLE                    the drainer found nothing more to do
   *
   * Ordering of this file: status constants, fields, the two entry points, the drain loop.
   */
  static final int IDLE = 0;
  static final int PROCESSING_TO_IDLE = 1;
  static final int PROCESSING_TO_REQUIRED = 2;

  private final AtomicInteger permits;
  private final AtomicInteger status = new AtomicInteger(IDLE);
  private final Queue<Entry<?, ?, ?>> waiting = new ConcurrentLinkedQueue<>();
  private final Predicate<Entry<?, ?, ?>> start;

  /** {@code start} tries to start a build and says whether it took the permit. */
  BuildGate(int permits, Predicate<Entry<?, ?, ?>> start) {
    this.permits = new AtomicInteger(permits);
    this.start = start;
  }

  void request(Entry<?, ?, ?> entry) {
    waiting.add(entry);
    drain();
  }

  void release() {
    permits.incrementAndGet();
    drain();
  }

  /** Permits not held by a build; for tests and monitors. */
  int available() {
    return permits.get();
  }

  /** Drains here, or tells the thread already draining to go round once more. */
  private void drain() {
    for (;;) {
      int s = status.get();
      if (s == IDLE && status.compareAndSet(IDLE, PROCESSING_TO_IDLE)) {
        drainLoop();
        return;
      }
      if (s == PROCESSING_TO_REQUIRED
          || (s == PROCESSING_TO_IDLE && status.compareAndSet(s, PROCESSING_TO_REQUIRED))) {
        return; // the drainer will see the mark and loop
      }
    }
  }

  private void drainLoop() {
    do {
      status.set(PROCESSING_TO_IDLE);
      startWhilePermitted();
    } while (!status.compareAndSet(PROCESSING_TO_IDLE, IDLE));
  }

  private void startWhilePermitted() {
    while (!waiting.isEmpty()) {
      int available = permits.get();
      if (available == 0) {
        return; // whoever holds a permit drains again when it gives it back
      }
      if (permits.compareAndSet(available, available - 1)) {
        startNext();
      }
    }
  }

  /** Holding one permit: starts the next waiting entry, or gives the permit back. */
  private void startNext() {
    Entry<?, ?, ?> next = waiting.poll();
    boolean started = false;
    try {
      started = next != null && start.test(next);
    } finally {
      if (!started) {
        permits.incrementAndGet();
      }
    }
  }
}
