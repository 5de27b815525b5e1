package dev.statewright.harness.cache;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Catches a simulation step that never returns: a cache that spins or deadlocks on the
 * simulation's only thread (say, abandoning a build whose factory is still being called, from
 * inside that very call). The simulation ticks it after every step; a watchdog thread reports a
 * step that has used {@link #CPU_LIMIT} of the thread's CPU time (a spin; CPU time, not wall time,
 * so a loaded machine does not look like a spinning cache) or run for {@link #WALL_LIMIT} (a
 * deadlock), with the stuck thread's stack, under {@code reentrancy:} when a factory was calling
 * back into the cache, else {@code stuck:}, and interrupts the thread once (a canary's spin gives
 * up when interrupted; a real spin does not, and then the run never ends: the report has already
 * been printed).
 *
 * <p>Concurrency: {@link #tick} is called by the simulation thread; the watchdog thread reads
 * the volatile tick count. {@link #stop} interrupts and joins the watchdog thread.
 */
final class SpinWatchdog {
  /** CPU time one step may use: far beyond any step of a healthy run (a 1,000-key backlog: ~50 ms). */
  static final Duration CPU_LIMIT = Duration.ofSeconds(1);
  /** Wall time one step may take, blocked or not. */
  static final Duration WALL_LIMIT = Duration.ofSeconds(60);
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

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
    long cpuSince = cpuTime();
    try {
      while (!awaitStop(100)) {
        long now = ticks;
        if (now != seen) {
          seen = now;
          since = System.nanoTime();
          cpuSince = cpuTime();
        } else if (cpuTime() - cpuSince > CPU_LIMIT.toNanos() || System.nanoTime() - since > WALL_LIMIT.toNanos()) {
          report(Duration.ofNanos(cpuTime() - cpuSince), Duration.ofNanos(System.nanoTime() - since));
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

  /** The simulation thread's CPU time; 0 where the platform does not measure it (wall time only then). */
  private long cpuTime() {
    long nanos = THREADS.isThreadCpuTimeSupported() ? THREADS.getThreadCpuTime(simulation.getId()) : -1;
    return Math.max(0, nanos);
  }

  private void report(Duration cpu, Duration wall) {
    StackTraceElement[] stack = simulation.getStackTrace();
    boolean reentrant = Arrays.stream(stack).anyMatch(f -> f.getMethodName().equals("reenterOnce")
        || f.getMethodName().equals("maybeReenter"));
    String top = Arrays.stream(stack).limit(8).map(String::valueOf).collect(Collectors.joining(" <- "));
    String what = (reentrant ? "reentrancy: a call into the cache from inside a callback"
        : "stuck: a step of the simulation") + " has not returned after " + cpu + " of CPU time and "
        + wall + " (spinning or deadlocked): " + top;
    System.err.println(what); // a real spin never returns: this line is the only report
    violations.accept(what);
    simulation.interrupt();
  }
}
