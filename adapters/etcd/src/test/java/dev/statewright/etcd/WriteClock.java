package dev.statewright.etcd;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Counts the writer's completed puts; readers wait (bounded) for the next one. */
final class WriteClock {
  private long writes; // guarded by this

  synchronized void tick() {
    writes++;
    notifyAll();
  }

  synchronized long writes() {
    return writes;
  }

  /** Waits until a write after the {@code seen}-th completes, or {@code atMost} passes. */
  synchronized void awaitWriteAfter(long seen, Duration atMost) throws InterruptedException {
    long deadline = System.nanoTime() + atMost.toNanos();
    for (long left = atMost.toNanos(); writes <= seen && left > 0;
        left = deadline - System.nanoTime()) {
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }
}
