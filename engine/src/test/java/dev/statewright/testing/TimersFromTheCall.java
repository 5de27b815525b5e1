package dev.statewright.testing;

import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A scheduler on real threads whose timers (but those due at once) start counting only when the
 * next factory call starts ({@link #callStarts}, called by the test's factory first thing). A
 * build's timeout counts from the build's start, before its call; on a loaded machine the worker
 * that makes the call may start after a short timeout, and then the factory is never called (the build is given up before its
 * call) or a call that returns at once is failed. A test of what a timeout does to a call under
 * way, with a timeout short enough to keep the test fast, waits for the call to be under way.
 */
public final class TimersFromTheCall implements Scheduler {
  private final Scheduler threads;
  private final List<Runnable> held = new ArrayList<>(); // guarded by this

  /** Timers held until the next call, on {@code threads} for everything else. */
  public TimersFromTheCall(Scheduler threads) {
    this.threads = threads;
  }

  /** A factory call starts: the timers armed before it start counting. */
  public void callStarts() {
    List<Runnable> arming;
    synchronized (this) {
      arming = List.copyOf(held);
      held.clear();
    }
    arming.forEach(Runnable::run);
  }

  @Override
  public long nanoTime() {
    return threads.nanoTime();
  }

  @Override
  public void execute(Runnable task) {
    threads.execute(task);
  }

  @Override
  public Cancellable schedule(Runnable task, Duration delay) {
    if (delay.isZero() || delay.isNegative()) {
      return threads.schedule(task, delay); // as soon as possible, as the contract asks
    }
    AtomicBoolean cancelled = new AtomicBoolean();
    AtomicReference<Cancellable> armed = new AtomicReference<>();
    Runnable arm = () -> armed.set(threads.schedule(() -> {
      if (!cancelled.get()) {
        task.run();
      }
    }, delay));
    synchronized (this) {
      held.add(arm);
    }
    return () -> {
      cancelled.set(true);
      Cancellable timer = armed.get();
      if (timer != null) {
        timer.cancel();
      }
    };
  }
}
