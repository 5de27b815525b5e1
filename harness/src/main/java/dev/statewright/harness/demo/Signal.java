package dev.statewright.harness.demo;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/** Lets the demonstration wait for a condition that engine callbacks make true, without sleeping. */
final class Signal {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();

  /** Something changed: wake every waiter to re-check its condition. */
  void pulse() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Waits until {@code condition} holds or {@code timeout} passes; returns whether it holds. */
  boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long remaining = timeout.toNanos();
    lock.lock();
    try {
      while (!condition.getAsBoolean()) {
        if (remaining <= 0) {
          return false;
        }
        // a bounded slice: some conditions are made true by threads that do not pulse
        long slice = Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(10));
        remaining -= slice - changed.awaitNanos(slice);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }
}
