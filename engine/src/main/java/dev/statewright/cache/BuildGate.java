package dev.statewright.cache;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The bulkhead: at most {@code permits} builds run at once across keys; entries that want a build
 * queue in arrival order. Lock-free and never recursive: no permit or wake-up is lost, and the
 * stack does not grow with the queue.
 */
final class BuildGate {
  /*
   * Overview: a permit counter and a queue of entries waiting for a permit. `request` and
   * `release` change one of them and then drain: while entries wait and a permit is free, take
   * the permit by CAS, poll an entry and start it, or give the permit back if it no longer wants
   * to build. Whoever changes the counter or the queue drains afterwards (a release that finds
   * entries waiting hands its drain to the drain executor), and a drain stops only when it has
   * seen the queue empty or no permit free after its own change, so the last change is always
   * followed by a drain that sees it: no wake-up is lost. (A release that finds the queue empty
   * and a request racing it: the request adds, then drains; the release adds its permit, then
   * looks at the queue; whichever comes second in that order sees the other's change.)
   *
   * Concurrency: starting a build runs the engine's effects and some user code (a listener, an
   * asynchronous factory, whose stage may be complete already), so a build can finish, give its
   * permit back and ask for a drain on the draining thread itself, inside `start`. That nested
   * drain only marks this thread's drain AGAIN and returns; the loop below goes round once more.
   * The stack therefore stays flat however long the queue (it used to grow by one frame chain per
   * queued key and overflow, and the StackOverflowError lost the permit in a CompletableFuture).
   * This is CompletableFuture.postComplete's discipline: the thread already unwinding the chain
   * takes the new work instead of recursing into it.
   *
   * Why the mark is per thread and not Caffeine's shared drain-status word (IDLE, REQUIRED,
   * PROCESSING_TO_IDLE, PROCESSING_TO_REQUIRED): with a shared word one thread drains for all,
   * and Caffeine's drain runs only its own code. Ours runs user callbacks; a listener that blocks
   * (or waits for another key's build) would then stall every other key's start. With a mark per
   * thread, threads drain independently, lock-free as before, and only reentry is flattened.
   *
   * Transitions of a thread's drain mark (confined to that thread):
   *   IDLE -> PROCESSING            a drain starts on this thread
   *   PROCESSING -> AGAIN           a nested request or release on this thread during the drain
   *   AGAIN -> PROCESSING           the drain loops once more
   *   PROCESSING -> IDLE            the drain found no entry waiting or no permit free
   *
   * Ordering of this file: marks, fields, the two entry points, the drain loop.
   */
  private static final int IDLE = 0;
  private static final int PROCESSING = 1;
  private static final int AGAIN = 2;

  private final AtomicInteger permits;
  private final Queue<Entry<?, ?, ?>> waiting = new ConcurrentLinkedQueue<>();
  private final Predicate<Entry<?, ?, ?>> start;
  /** Where a drain after {@link #release} runs. */
  private final Executor drains;
  /** This thread's drain mark for this gate; a thread draining another cache's gate is IDLE here. */
  private final ThreadLocal<int[]> mark = ThreadLocal.withInitial(() -> new int[] {IDLE});

  /**
   * {@code start} tries to start a build and says whether it took the permit; {@code drains} runs
   * the drain after a permit comes back.
   */
  BuildGate(int permits, Predicate<Entry<?, ?, ?>> start, Executor drains) {
    this.permits = new AtomicInteger(permits);
    this.start = start;
    this.drains = drains;
  }

  void request(Entry<?, ?, ?> entry) {
    waiting.add(entry);
    drain();
  }

  /**
   * A permit comes back. A thread draining already goes round again, after the start it is in;
   * any other thread is applying an update whose callbacks are still to run, so entries waiting
   * for a permit start on the drain executor: no other key's start waits behind those callbacks,
   * nor they behind it.
   */
  void release() {
    permits.incrementAndGet();
    int[] mine = mark.get();
    if (mine[0] != IDLE) {
      mine[0] = AGAIN;
    } else if (!waiting.isEmpty()) {
      try {
        drains.execute(this::drain);
      } catch (RuntimeException rejected) { // a user's scheduler that refuses: drain here
        drain();
      }
    }
  }

  /** Permits not held by a build; for the cache's footprint, which monitors read. */
  int available() {
    return permits.get();
  }

  /** Drains here, or, if this thread is draining already, tells that drain to go round again. */
  private void drain() {
    int[] mine = mark.get();
    if (mine[0] != IDLE) {
      mine[0] = AGAIN;
      return;
    }
    try {
      do {
        mine[0] = PROCESSING;
        startWhilePermitted();
      } while (mine[0] == AGAIN);
    } finally {
      mine[0] = IDLE;
    }
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
