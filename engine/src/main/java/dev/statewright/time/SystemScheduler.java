package dev.statewright.time;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link Scheduler#system()}: one timer thread that only hands tasks over, and a cached pool of
 * daemon workers for the tasks themselves, so a blocking client build never delays a timer.
 */
final class SystemScheduler implements Scheduler {
  /*
   * Overview: the timer thread never runs a task; at its delay it hands the task to the worker
   * pool. Workers are daemon threads of a cached pool, created on demand and reaped when idle.
   *
   * Concurrency: both executors are thread-safe and this class has no state of its own; one
   * shared instance (created lazily, on first use of Scheduler.system()) serves every cache. A
   * task's Cancellable cancels the timer's future only: a task already handed to a worker runs.
   * Memory consistency effects are the executors': actions before execute or schedule
   * happen-before the task runs.
   *
   * Transitions: none; the executors live as long as the JVM (their threads are daemons).
   *
   * Ordering of this file: fields and the timer's policy, the Scheduler methods, thread naming.
   */
  static final SystemScheduler INSTANCE = new SystemScheduler();

  private final ExecutorService workers = Executors.newCachedThreadPool(daemons("statewright-worker-"));
  private final ScheduledThreadPoolExecutor timer =
      new ScheduledThreadPoolExecutor(1, daemons("statewright-timer-"));

  private SystemScheduler() {
    // Every build arms a timeout that is cancelled when it finishes. Cancelled timers leave the
    // queue at once, rather than holding what they captured until their delay runs out (at 10,000
    // builds a second, over a million two-minute timeouts). And the timer thread ticks once a
    // second, so a timer armed further out than the next tick never becomes the queue's head,
    // and arming it never has to wake the timer thread.
    timer.setRemoveOnCancelPolicy(true);
    timer.scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.SECONDS);
  }

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
