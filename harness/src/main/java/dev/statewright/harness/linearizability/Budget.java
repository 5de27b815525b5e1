package dev.statewright.harness.linearizability;

import java.time.Duration;
import java.util.Objects;

/**
 * How much one {@link LinearizabilityChecker#check check} may spend, over all partitions
 * together, before it answers {@link Verdict.Kind#UNKNOWN}: search steps, memo memory, and wall
 * time. Immutable.
 *
 * <p>{@link #defaults()}: 10,000,000 steps, 30 seconds, and 512 MiB of memo (never more than a
 * quarter of the heap). Why: the hardest published histories the checker was held to (Jepsen's
 * etcd register histories) need 1,356,360 steps with an exact memo, so ten million decides them
 * with a sevenfold margin, in seconds; a memo entry of a 1,000-operation history is estimated at
 * 224 bytes, so 512 MiB holds about 2.4 million of them, more than the states ten million steps
 * enter on the histories measured (in the benchmark about one step in six enters a new state),
 * and stays small beside a default heap; 30 seconds keeps a build from looking hung. The old default of 100,000 steps per partition left 9 of 229 published histories
 * undecided.
 *
 * @param steps search steps (tries of an operation in a state), at least 1
 * @param memoBytes estimated bytes of memo held at once, at least 1
 * @param time wall time, positive
 */
public record Budget(long steps, long memoBytes, Duration time) {
  private static final long DEFAULT_STEPS = 10_000_000;
  private static final long DEFAULT_MEMO_BYTES = 512L << 20;
  private static final Duration DEFAULT_TIME = Duration.ofSeconds(30);

  /**
   * Checks the limits.
   *
   * @param steps search steps, at least 1
   * @param memoBytes estimated bytes of memo, at least 1
   * @param time wall time, positive
   * @throws IllegalArgumentException if a limit is not positive
   * @throws NullPointerException if {@code time} is null
   */
  public Budget {
    Objects.requireNonNull(time, "time");
    if (steps < 1 || memoBytes < 1 || time.isNegative() || time.isZero()) {
      throw new IllegalArgumentException("every limit must be positive: " + steps + " steps, "
          + memoBytes + " memo bytes, " + time);
    }
  }

  /**
   * The default budget (see the class comment for why).
   *
   * @return 10,000,000 steps, 512 MiB of memo (at most a quarter of the heap), 30 seconds
   */
  public static Budget defaults() {
    return new Budget(DEFAULT_STEPS, Math.min(DEFAULT_MEMO_BYTES, Runtime.getRuntime().maxMemory() / 4),
        DEFAULT_TIME);
  }

  /**
   * This budget with another step limit.
   *
   * @param limit search steps, at least 1
   * @return the new budget
   * @throws IllegalArgumentException if {@code limit} is below 1
   */
  public Budget withSteps(long limit) {
    return new Budget(limit, memoBytes, time);
  }

  /**
   * This budget with another memo memory limit.
   *
   * @param limit estimated bytes, at least 1
   * @return the new budget
   * @throws IllegalArgumentException if {@code limit} is below 1
   */
  public Budget withMemoBytes(long limit) {
    return new Budget(steps, limit, time);
  }

  /**
   * This budget with another wall-time limit.
   *
   * @param limit wall time, positive
   * @return the new budget
   * @throws IllegalArgumentException if {@code limit} is not positive
   */
  public Budget withTime(Duration limit) {
    return new Budget(steps, memoBytes, limit);
  }

  @Override
  public String toString() {
    return steps + " steps, " + (memoBytes >> 20) + " MiB of memo, " + time.toMillis() + " ms";
  }
}
