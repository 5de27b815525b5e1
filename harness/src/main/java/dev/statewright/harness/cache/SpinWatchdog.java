package dev.statewright.harness.cache;

import java.time.Duration;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Catches a simulation step that never returns: a cache that spins or deadlocks on the
 * simulation's only thread (say, abandoning a build whose factory is still being called, from
 * inside that very call). The simulation ticks it after every step; a watchdog thread reports a
 * step that has run for {@link #LIMIT} of wall time, with the stuck thread's stack, under
 * {@code reentrancy:} when a factory was calling back into the cache, else {@code stuck:}, and
 * interrupts the thread once (a canary's spin gives up when interrupted; a real spin does not, and
 * then the run never ends: the report has already been printed).
 *
 * <p>Concurrency: {@link #tick} is called by the simulation thread; the watchdog thread reads
 * the volatile tick count. {@link #stop} interrupts and joins the watchdog thread.
 */
final class SpinWatchdog {
  /** How long one step may take: far beyond any step of a healthy run, even on a loaded machine. */
  static final Duration LIMIT = Duration.ofSeconds(3);

  private final Thread simulation;
  private final Consumer<String> violations;
  private final Thread watchdog;
  private volatile long ticks;
  private boolean stopped; // guarded by this

  private SpinWatchdog(Thread simulation, Consumer<String> violations) {
    this.simulation = simulation;
    this.violations = violations;
    this.watchdog = new Thread(this::watch, "spin-watchdog-" + simulation.getName());
    watchdog.setDaemon(true); // a real spin never ends: the watchdog must not hold the JVM
  }

  /** Watches the calling thread's simulation steps. */
  static SpinWatchdog watchCurrentThread(Consumer<String> violations) {
    SpinWatchdog dog = new SpinWatchdog(Thread.currentThread(), violations);
    dog.watchdog.start();
    return dog;
  }

  /** A step returned. */
  void tick() {
    ticks++;
  }

  /** Stops watching; the watchdog thread is joined. */
  void stop() throws InterruptedException {
    synchronized (this) {
      stopped = true;
      notifyAll();
    }
    watchdog.join();
    Thread.interrupted(); // an interrupt meant for a canary's spin must not leak into the next run
  }

  private void watch() {
    long seen = ticks;
    long since = System.nanoTime();
    try {
      while (!awaitStop(LIMIT.toMillis() / 10)) {
        long now = ticks;
        if (now != seen) {
          seen = now;
          since = System.nanoTime();
        } else if (System.nanoTime() - since > LIMIT.toNanos()) {
          report();
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // nobody interrupts it; end quietly if someone does
    }
  }

  /** Waits up to {@code millis} for stop(); true once stopped. */
  private synchronized boolean awaitStop(long millis) throws InterruptedException {
    if (!stopped) {
      wait(millis); // the watchdog polls wall time; stop() wakes it at once
    }
    return stopped;
  }

  private void report() {
    StackTraceElement[] stack = simulation.getStackTrace();
    boolean reentrant = Arrays.stream(stack).anyMatch(f -> f.getMethodName().equals("reenterOnce"));
    String top = Arrays.stream(stack).limit(8).map(String::valueOf).collect(Collectors.joining(" <- "));
    String what = (reentrant ? "reentrancy: a call into the cache from inside the factory"
        : "stuck: a step of the simulation") + " has not returned in " + LIMIT + " (spinning or"
        + " deadlocked): " + top;
    System.err.println(what); // a real spin never returns: this line is the only report
    violations.accept(what);
    simulation.interrupt();
  }
}
