package dev.statewright.harness.linearizability;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The CPU time this thread spends on a check. A check is one thread's computation, so how much
 * work it did is its CPU time; its wall time is that plus however long a loaded machine (CI on
 * two shared cores) kept the thread off a core, which says nothing about the checker.
 */
final class ThreadCpu {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private ThreadCpu() { }

  /** What {@code check} returned and the CPU time this thread spent computing it. */
  record Timed<T>(T value, long millis) { }

  static <T> Timed<T> time(Supplier<T> check) {
    if (!THREADS.isCurrentThreadCpuTimeSupported()) { // HotSpot on Linux, macOS and Windows has it
      throw new AssertionError("this JVM does not measure a thread's CPU time");
    }
    long start = THREADS.getCurrentThreadCpuTime();
    T value = check.get();
    return new Timed<>(value, TimeUnit.NANOSECONDS.toMillis(THREADS.getCurrentThreadCpuTime() - start));
  }
}
