package dev.statewright.cache;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The delay before retrying after consecutive failures. Implementations must be pure apart from
 * the random numbers they draw.
 */
@FunctionalInterface
public interface Backoff {

  /**
   * The delay before attempt {@code failures + 1}, for {@code failures >= 1}.
   *
   * @param failures how many builds of the key have failed in a row, 1 or more
   * @param random the scheduler's generator, to draw jitter from
   * @return the time to wait before the next attempt; not negative
   */
  Duration delay(int failures, RandomGenerator random);

  /**
   * Doubles from {@code initial} up to {@code max}, then draws uniformly from the upper half of
   * that delay ("equal jitter"), so a fleet that failed together does not retry together.
   *
   * @param initial the ceiling after the first failure; positive
   * @param max the largest ceiling, reached after enough failures; at least {@code initial}
   * @return the backoff: after {@code n} failures, a delay drawn uniformly between half and all of
   *     {@code min(max, initial * 2^(n-1))}
   * @throws NullPointerException if {@code initial} or {@code max} is null
   * @throws IllegalArgumentException if {@code initial} is not positive or {@code max} is less than
   *     {@code initial}
   */
  static Backoff exponential(Duration initial, Duration max) {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "exponential backoff needs 0 < initial <= max, got " + initial + " and " + max);
    }
    long initialNanos = initial.toNanos();
    long maxNanos = max.toNanos();
    return (failures, random) -> {
      int doublings = Math.min(Math.max(failures - 1, 0), 62);
      long ceiling = initialNanos > (maxNanos >> doublings) ? maxNanos : initialNanos << doublings;
      long half = ceiling / 2;
      return Duration.ofNanos(half + random.nextLong(ceiling - half + 1));
    };
  }

  /**
   * The same delay after every failure, without jitter; meant for tests.
   *
   * @param delay the delay before every retry
   * @return a backoff that always returns {@code delay} and draws nothing
   * @throws NullPointerException if {@code delay} is null
   */
  static Backoff fixed(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    return (failures, random) -> delay;
  }
}
