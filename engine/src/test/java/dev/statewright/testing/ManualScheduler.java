package dev.statewright.testing;

import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * A scheduler for unit tests: nothing runs until the test says so. {@link #runAll()} runs queued
 * tasks in FIFO order until none is left; {@link #advance} moves virtual time forward and fires the
 * timers that fall due. Single-threaded: the test thread is the only one.
 */
public final class ManualScheduler implements Scheduler {
  private final Queue<Runnable> ready = new ArrayDeque<>();
  private final PriorityQueue<Timer> timers = new PriorityQueue<>();
  private final SplittableRandom random = new SplittableRandom(42);
  private long now = 1_000_000_000L;
  private long sequence;

  private final class Timer implements Comparable<Timer>, Cancellable {
    final long due;
    final long order = sequence++;
    final Runnable task;
    boolean cancelled;

    Timer(long due, Runnable task) {
      this.due = due;
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

  @Override
  public long nanoTime() {
    return now;
  }

  @Override
  public Instant now() {
    return Instant.ofEpochSecond(0, now);
  }

  @Override
  public RandomGenerator random() {
    return random;
  }

  @Override
  public void execute(Runnable task) {
    ready.add(task);
  }

  @Override
  public Cancellable schedule(Runnable task, Duration delay) {
    Timer timer = new Timer(now + delay.toNanos(), task);
    timers.add(timer);
    return timer;
  }

  /** Runs ready tasks until there are none; returns how many ran. */
  public int runAll() {
    int ran = 0;
    for (Runnable task; (task = ready.poll()) != null; ran++) {
      task.run();
    }
    return ran;
  }

  /** Moves time forward by {@code delta}, firing due timers in order and running what they queue. */
  public void advance(Duration delta) {
    long target = now + delta.toNanos();
    runAll();
    for (Timer next; (next = timers.peek()) != null && next.due <= target; ) {
      timers.poll();
      now = Math.max(now, next.due);
      if (!next.cancelled) {
        next.task.run();
      }
      runAll();
    }
    now = target;
  }
}
