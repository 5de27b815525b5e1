package dev.statewright.benchmarks;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * Updates sent at a fixed pace, each timed from when it was sent until its future completed: the
 * staleness a reader sees. Shared by the freshness and scale benchmarks.
 */
final class PacedUpdates {
  private final long[] sentAt; // by update, System.nanoTime()
  private final long[] seenAt; // by update
  private final long[] staleness; // sorted, nanoseconds
  private final long sendingNanos;

  private PacedUpdates(long[] sentAt, long[] seenAt, long[] staleness, long sendingNanos) {
    this.sentAt = sentAt;
    this.seenAt = seenAt;
    this.staleness = staleness;
    this.sendingNanos = sendingNanos;
  }

  /**
   * Sends {@code count} updates, update i at {@code i * intervalNanos} after the start; waits that
   * are not longer than {@code slackNanos} are skipped. {@code send} sends update i and returns
   * what completes once it is seen; all must complete within a minute.
   */
  static PacedUpdates run(int count, long intervalNanos, long slackNanos,
      IntFunction<CompletableFuture<?>> send) throws Exception {
    long[] sentAt = new long[count];
    long[] seenAt = new long[count];
    CompletableFuture<?>[] seen = new CompletableFuture<?>[count];
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      long due = start + i * intervalNanos;
      for (long wait = due - System.nanoTime(); wait > slackNanos; wait = due - System.nanoTime()) {
        LockSupport.parkNanos(wait); // pacing the updates, not waiting for a result
      }
      int update = i;
      sentAt[i] = System.nanoTime();
      seen[i] = send.apply(i).thenRun(() -> seenAt[update] = System.nanoTime());
    }
    long sendingNanos = System.nanoTime() - start;
    CompletableFuture.allOf(seen).get(1, TimeUnit.MINUTES);
    long[] staleness = new long[count];
    for (int i = 0; i < count; i++) {
      staleness[i] = seenAt[i] - sentAt[i];
    }
    Arrays.sort(staleness);
    return new PacedUpdates(sentAt, seenAt, staleness, sendingNanos);
  }

  /** When update {@code i} was sent ({@link System#nanoTime()}). */
  long sentAt(int i) {
    return sentAt[i];
  }

  /** When update {@code i} was seen ({@link System#nanoTime()}). */
  long seenAt(int i) {
    return seenAt[i];
  }

  /** The {@code percent}th percentile of staleness, in microseconds. */
  double stalenessMicros(int percent) {
    return staleness[staleness.length * percent / 100] / 1000.0;
  }

  /** The largest staleness, in microseconds. */
  double maxStalenessMicros() {
    return staleness[staleness.length - 1] / 1000.0;
  }

  /** How long sending took, from the first update's due time to the last one sent. */
  long sendingNanos() {
    return sendingNanos;
  }
}
