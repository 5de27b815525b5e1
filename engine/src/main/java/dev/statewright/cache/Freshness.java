package dev.statewright.cache;

import java.time.Duration;
import java.util.Objects;

/**
 * How stale a client {@link ClientCache#acquire} may hand out.
 *
 * <p>{@link #strict()} waits until the entry serves a client built from the spec known when
 * {@code acquire} was called. {@link #boundedStaleness(Duration)} hands out the last client while
 * the entry has been stale for less than the bound, and waits like {@code strict()} after that.
 */
public final class Freshness {
  private static final Freshness STRICT = new Freshness(Duration.ZERO);

  private final Duration bound;

  private Freshness(Duration bound) {
    this.bound = bound;
  }

  /**
   * Never hand out a client older than the spec known at the call (the default).
   *
   * @return the strict freshness, whose bound is zero
   */
  public static Freshness strict() {
    return STRICT;
  }

  /**
   * Hand out the last client while the entry has been stale for less than {@code bound}.
   *
   * @param bound how long an entry may have been stale and still hand out its last client; zero
   *     is {@link #strict()}
   * @return the freshness
   * @throws NullPointerException if {@code bound} is null
   * @throws IllegalArgumentException if {@code bound} is negative
   */
  public static Freshness boundedStaleness(Duration bound) {
    Objects.requireNonNull(bound, "bound");
    if (bound.isNegative()) {
      throw new IllegalArgumentException("boundedStaleness needs a bound >= 0, got " + bound);
    }
    return bound.isZero() ? STRICT : new Freshness(bound);
  }

  /**
   * The longest staleness tolerated; zero for strict.
   *
   * @return the bound; an entry stale for this long or longer waits for a fresh client
   */
  public Duration bound() {
    return bound;
  }

  boolean tolerates(long staleForNanos) {
    return staleForNanos < bound.toNanos();
  }

  @Override
  public String toString() {
    return bound.isZero() ? "Freshness.strict()" : "Freshness.boundedStaleness(" + bound + ")";
  }
}
