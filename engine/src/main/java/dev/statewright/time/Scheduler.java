package dev.statewright.time;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * The one seam through which the engine reads time, runs work and waits: a monotonic clock, an
 * executor and delayed tasks. Production code uses {@link #system()}; a test harness substitutes
 * a single-threaded, virtual-time implementation and so runs the real engine deterministically.
 *
 * <p>Implementations must be safe for use by several threads. Tasks handed to {@link #execute}
 * may block (a client build is user code doing I/O), so an implementation must not run them on a
 * pool shared with CPU-bound work.
 *
 * <p>Memory consistency effects: actions in a thread prior to submitting a task
 * <i>happen-before</i> the task begins to run.
 */
public interface Scheduler {

  /**
   * Monotonic time in nanoseconds, as {@link System#nanoTime()}; only differences are meaningful.
   *
   * @return the current reading of this scheduler's clock, in nanoseconds from an arbitrary origin
   */
  long nanoTime();

  /**
   * Wall-clock time, for messages a human reads; never used to order anything.
   *
   * @return the current instant; the default reads the system clock
   */
  default Instant now() {
    return Instant.now();
  }

  /**
   * Random numbers for jitter; a deterministic scheduler returns a seeded generator.
   *
   * @return the generator to draw jitter from; the default is the calling thread's
   *     {@link ThreadLocalRandom}, so it must not be shared with other threads
   */
  default RandomGenerator random() {
    return ThreadLocalRandom.current();
  }

  /**
   * Runs {@code task} soon, on some thread of this scheduler. A scheduler that runs it on the
   * calling thread (a caller-runs executor) is allowed, but then a cache's blocking factory runs
   * inside the call that started its build: builds it starts for other keys wait until it returns
   * (the cache starts builds in a loop, never nested), so a factory that waits for another key's
   * build waits for itself until its acquire timeout. Use a pool for such factories.
   *
   * @param task the work to run; it may block
   */
  void execute(Runnable task);

  /**
   * Runs {@code task} once after {@code delay}; the returned handle cancels it.
   *
   * @param task the work to run when the delay has passed
   * @param delay how long to wait, measured on {@link #nanoTime()}; zero or negative runs the task
   *     as soon as possible
   * @return a handle that prevents the task from running if it has not started
   */
  Cancellable schedule(Runnable task, Duration delay);

  /**
   * The process-wide scheduler backed by daemon threads.
   *
   * @return the one shared instance; its threads start on first use of this method
   */
  static Scheduler system() {
    return SystemScheduler.INSTANCE;
  }

  /** A handle on a delayed task. */
  @FunctionalInterface
  interface Cancellable {
    /** Prevents the task from running if it has not started; idempotent. */
    void cancel();
  }
}
