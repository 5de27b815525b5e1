package dev.statewright.event.attack;

import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A scheduler on a pool this test owns, so it can stop every thread it started. */
final class PoolScheduler implements Scheduler, AutoCloseable {
  private final ScheduledExecutorService pool;
  final AtomicInteger uncaught = new AtomicInteger();

  PoolScheduler(int threads) {
    AtomicInteger n = new AtomicInteger();
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(threads, r -> {
      Thread t = new Thread(() -> {
        try {
          r.run();
        } catch (Throwable e) {
          uncaught.incrementAndGet();
          throw e;
        }
      }, "attack-pool-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    executor.setRemoveOnCancelPolicy(true);
    this.pool = executor;
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  private final Object quiet = new Object();
  private int running;

  /** Counts {@code task} as running from submission until it returns. */
  private Runnable tracked(Runnable task) {
    synchronized (quiet) {
      running++;
    }
    return () -> {
      try {
        task.run();
      } finally {
        synchronized (quiet) {
          running--;
          quiet.notifyAll();
        }
      }
    };
  }

  /** Waits until no task handed to {@link #execute} is queued or running; false on timeout. */
  boolean awaitQuiet(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (quiet) {
      while (running > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(quiet, left);
      }
      return true;
    }
  }

  @Override
  public void execute(Runnable task) {
    pool.execute(tracked(task));
  }

  @Override
  public Cancellable schedule(Runnable task, Duration delay) {
    Runnable counted = () -> tracked(task).run(); // counted from when it starts running
    ScheduledFuture<?> f = pool.schedule(counted, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
    return () -> f.cancel(false);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
