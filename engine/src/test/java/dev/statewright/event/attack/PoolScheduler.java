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

  @Override
  public void execute(Runnable task) {
    pool.execute(task);
  }

  @Override
  public Cancellable schedule(Runnable task, Duration delay) {
    ScheduledFuture<?> f = pool.schedule(task, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
    return () -> f.cancel(false);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
