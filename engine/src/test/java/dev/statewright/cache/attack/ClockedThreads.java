package dev.statewright.cache.attack;

import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Real worker threads under a virtual clock that only the test moves: {@link #advance} moves the
 * clock and hands the timers that fell due to the workers. The clock may start anywhere (the
 * {@link Scheduler} contract says only differences are meaningful), close to
 * {@link Long#MAX_VALUE} included, and wraps as {@link System#nanoTime()} may. Timers are ordered
 * by the time elapsed since construction, so a wrapping clock does not reorder them.
 */
class ClockedThreads implements Scheduler, AutoCloseable {
  private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "clocked-worker");
    t.setDaemon(true);
    return t;
  });
  private final long origin;
  private final PriorityQueue<Timer> timers = new PriorityQueue<>();
  private long elapsed;
  private long sequence;
  private int busy; // tasks handed to the workers and not yet returned

  private final class Timer implements Comparable<Timer>, Cancellable {
    final long due;
    final long order;
    final Runnable task;
    volatile boolean cancelled;

    Timer(long due, long order, Runnable task) {
      this.due = due;
      this.order = order;
      this.task = task;
    }

    @Override
    public void cancel() {
      cancelled = true;
    }

    @Override
    public int compareTo(Timer other) {
      return due != other.due ? Long.compare(due, other.due) : Long.compare(order, other.order);
    }
  }

  ClockedThreads(long origin) {
    this.origin = origin;
  }

  @Override
  public synchronized long nanoTime() {
    return origin + elapsed; // wraps like System.nanoTime may
  }

  @Override
  public void execute(Runnable task) {
    run(task);
  }

  /** Runs {@code task} on a worker, counted until it returns, so {@link #settle} can wait. */
  private void run(Runnable task) {
    synchronized (this) {
      busy++;
    }
    try {
      workers.execute(() -> {
        try {
          task.run();
        } finally {
          synchronized (this) {
            if (--busy == 0) {
              notifyAll();
            }
          }
        }
      });
    } catch (RuntimeException refused) {
      synchronized (this) {
        busy--;
      }
      throw refused;
    }
  }

  /**
   * Waits until no task handed to the workers is running or waiting: what an event told to the
   * listener set in motion (a retry, refresh or expiry timer armed after the listener heard of
   * its update) is done. Not while a task blocks on something the test releases later.
   */
  synchronized void settle() throws InterruptedException {
    long deadline = System.nanoTime() + Kit.WAIT.toNanos();
    for (long left = Kit.WAIT.toNanos(); busy > 0; left = deadline - System.nanoTime()) {
      if (left <= 0) {
        throw new AssertionError(busy + " tasks still running after " + Kit.WAIT);
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, Duration delay) {
    long nanos;
    try {
      nanos = Math.max(0, delay.toNanos());
    } catch (ArithmeticException tooLong) {
      nanos = Long.MAX_VALUE;
    }
    long due = elapsed + nanos < elapsed ? Long.MAX_VALUE : elapsed + nanos;
    Timer timer = new Timer(due, sequence++, task);
    if (nanos == 0) { // as soon as possible, without waiting for the clock to move
      run(() -> {
        if (!timer.cancelled) {
          task.run();
        }
      });
    } else {
      timers.add(timer);
    }
    return timer;
  }

  /** Moves the clock by {@code delta} and hands every timer that fell due to the workers. */
  void advance(Duration delta) {
    List<Runnable> due = new ArrayList<>();
    synchronized (this) {
      elapsed += delta.toNanos();
      for (Timer next; (next = timers.peek()) != null && next.due <= elapsed; ) {
        timers.poll();
        if (!next.cancelled) {
          due.add(next.task);
        }
      }
    }
    due.forEach(this::run);
  }

  @Override
  public void close() {
    workers.shutdownNow();
  }
}
