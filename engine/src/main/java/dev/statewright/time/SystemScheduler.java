package dev.statewright.time;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link Scheduler#system()}: one timer thread that only hands tasks over, and a cached pool of
 * daemon workers for the tasks themselves, so a blocking client build never delays a timer.
 */
final class SystemScheduler implements Scheduler {
  static final SystemScheduler INSTANCE = new SystemScheduler();

  private final ExecutorService workers = Executors.newCachedThreadPool(daemons("statewright-worker-"));
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(daemons("statewright-timer-"));

  private SystemScheduler() {}

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public void execute(Runnable task) {
    workers.execute(task);
  }

  @Override
  public Cancellable schedule(Runnable task, Duration delay) {
    ScheduledFuture<?> future =
        timer.schedule(() -> workers.execute(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    return () -> future.cancel(false);
  }

  private static ThreadFactory daemons(String prefix) {
    ThreadFactory platform = Executors.defaultThreadFactory();
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = platform.newThread(runnable);
      thread.setName(prefix + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  @Override
  public String toString() {
    return "Scheduler.system()";
  }
}
