package dev.statewright.harness.cache;

import dev.statewright.harness.sim.SimulatedScheduler;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Supplier;
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
 * <p>The watched thread is the one that runs the steps ({@link SimulatedScheduler#steppingThread}),
 * which is not the thread that started the run: steps run on a simulation thread of their own.
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

  private final Supplier<Thread> simulation;
  private final Consumer<String> violations;
  private final Thread watchdog;
  private volatile long ticks;
  private boolean stopped; // guarded by this

  private SpinWatchdog(Supplier<Thread> simulation, Consumer<String> violations) {
    this.simulation = simulation;
    this.violations = violations;
    this.watchdog = new Thread(this::watch, "spin-watchdog");
    watchdog.setDaemon(true); // a real spin never ends: the watchdog must not hold the JVM
  }

  /** Watches the steps of {@code sim}, on whichever thread runs them. */
  static SpinWatchdog watchSteps(SimulatedScheduler sim, Consumer<String> violations) {
    Thread starter = Thread.currentThread();
    SpinWatchdog dog = new SpinWatchdog(() -> {
      Thread stepping = sim.steppingThread();
      return stepping != null ? stepping : starter;
    }, violations);
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
    watchdog.join(); // the simulation thread clears an interrupt meant for a canary's spin
  }

  private void watch() {
    long seen = ticks;
    Thread watched = simulation.get();
    long since = System.nanoTime();
    long cpuSince = cpuTime(watched);
    try {
      while (!awaitStop(100)) {
        long now = ticks;
        Thread thread = simulation.get();
        if (now != seen || thread != watched) {
          seen = now;
          watched = thread;
          since = System.nanoTime();
          cpuSince = cpuTime(watched);
        } else if (cpuTime(watched) - cpuSince > CPU_LIMIT.toNanos()
            || System.nanoTime() - since > WALL_LIMIT.toNanos()) {
          report(watched, Duration.ofNanos(cpuTime(watched) - cpuSince),
              Duration.ofNanos(System.nanoTime() - since));
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

  /** A thread's CPU time; 0 where the platform does not measure it (wall time only then). */
  private static long cpuTime(Thread thread) {
    long nanos = THREADS.isThreadCpuTimeSupported() ? THREADS.getThreadCpuTime(thread.getId()) : -1;
    return Math.max(0, nanos);
  }

  private void report(Thread simulation, Duration cpu, Duration wall) {
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
