package dev.statewright.harness.demo;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Lets the demonstration wait for a condition that engine callbacks make true, without sleeping.
 * A condition is never evaluated under the lock: it may read the cache, even acquire a lease,
 * which may block; a pulse that lands while it is evaluated is not lost, because the waiter
 * remembers the generation it read before evaluating and waits only while that is unchanged.
 */
final class Signal {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private long generation; // guarded by lock

  /** Something changed: wake every waiter to re-check its condition. */
  void pulse() {
    lock.lock();
    try {
      generation++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Waits until {@code condition} holds or {@code timeout} passes; returns whether it holds. */
  boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (;;) {
      long seen = generation();
      if (condition.getAsBoolean()) { // outside the lock: it may block
        return true;
      }
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        return false;
      }
      // a bounded slice: some conditions are made true by threads that do not pulse
      awaitPulseAfter(seen, Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(10)));
    }
  }

  private long generation() {
    lock.lock();
    try {
      return generation;
    } finally {
      lock.unlock();
    }
  }

  private void awaitPulseAfter(long seen, long nanos) throws InterruptedException {
    lock.lock();
    try {
      long left = nanos;
      while (generation == seen && left > 0) {
        left = changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }
}
