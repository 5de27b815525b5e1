package dev.statewright.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs bodies on real threads that start together, joins every one, and rethrows the first
 * failure in the test thread (JSR166TestCase's threadAssert, in small).
 */
public final class Workers {
  private Workers() { }

  /** A worker body; its index tells it apart from the others. */
  @FunctionalInterface
  public interface Body {
    void run(int index) throws Exception;
  }

  /** Runs {@code count} copies of {@code body} at once and waits up to a minute for all. */
  public static void run(int count, Body body) throws Exception {
    CyclicBarrier start = new CyclicBarrier(count);
    List<Throwable> failures = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = i;
      Thread thread = new Thread(() -> {
        try {
          start.await(10, TimeUnit.SECONDS);
          body.run(index);
        } catch (Throwable t) {
          synchronized (failures) {
            failures.add(t);
          }
        }
      }, "worker-" + i);
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join(TimeUnit.MINUTES.toMillis(1));
      if (thread.isAlive()) {
        throw new TimeoutException(thread.getName() + " did not finish within a minute");
      }
    }
    synchronized (failures) {
      if (!failures.isEmpty()) {
        Throwable first = failures.get(0);
        if (first instanceof BrokenBarrierException && failures.size() > 1) {
          first = failures.get(1);
        }
        AssertionError error = new AssertionError(failures.size() + " worker(s) failed", first);
        failures.stream().skip(1).forEach(error::addSuppressed);
        throw error;
      }
    }
  }
}
