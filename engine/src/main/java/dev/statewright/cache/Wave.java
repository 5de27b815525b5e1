package dev.statewright.cache;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a change of a dependency (the Secret a thousand repositories read) rebuilds its dependents:
 * {@link #all()} at once, or {@link #canaryFirst(int) a few first} and, only if every one of them
 * succeeds, {@link #thenAtMost(int, Duration) the rest at a bounded rate}.
 *
 * <p>A canary that fails stops the wave: the dependents not yet rebuilt keep their clients and
 * record the canary's error as their {@link Snapshot#lastError()}, and the change's future fails
 * with it. They are released by the next change of the same dependency (a new wave, canaries
 * first again), or one by one by a spec change of their own. A second change of a dependency while
 * its wave runs supersedes the wave: the keys the old wave had not reached are rebuilt once, by the
 * new wave; the keys it left mid-rebuild are marked again at once, as canaries of the new wave (C3
 * coalesces what has not started), and the old wave's future follows the new one's. A dependent
 * deleted mid-wave is skipped, and is neither a success nor a failure.
 *
 * <p>Immutable and thread-safe.
 */
public final class Wave {
  private static final Wave ALL = new Wave(0, 0, null);

  private final int canaries;
  /** At most this many dependents are released per {@link #per}; 0 with {@code per == null}. */
  private final int builds;
  private final Duration per;

  private Wave(int canaries, int builds, Duration per) {
    this.canaries = canaries;
    this.builds = builds;
    this.per = per;
  }

  /**
   * Every dependent rebuilds at once (the bulkhead still bounds the builds running); the default.
   *
   * @return the wave without canaries or rate
   */
  public static Wave all() {
    return ALL;
  }

  /**
   * Rebuilds {@code n} dependents first; the rest follow, all at once unless
   * {@link #thenAtMost(int, Duration)} says otherwise, only if every canary succeeds.
   *
   * @param n how many dependents rebuild first, at least 1
   * @return a wave of {@code n} canaries, the rest released at once after them
   * @throws IllegalArgumentException if {@code n < 1}
   */
  public static Wave canaryFirst(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("canaryFirst(n): n must be >= 1, got " + n);
    }
    return new Wave(n, 0, null);
  }

  /**
   * This wave with the dependents after the canaries released at no more than {@code builds} per
   * {@code per}: in fixed windows of {@code per}, on the cache's scheduler, starting when the last
   * canary succeeded.
   *
   * @param builds dependents released per window, at least 1
   * @param per the window's length, positive
   * @return a new wave with this one's canaries and that rate
   * @throws IllegalArgumentException if {@code builds < 1} or {@code per} is not positive
   */
  public Wave thenAtMost(int builds, Duration per) {
    if (builds < 1) {
      throw new IllegalArgumentException("thenAtMost(builds, per): builds must be >= 1, got "
          + builds);
    }
    Objects.requireNonNull(per, "thenAtMost(builds, per): per");
    if (per.isNegative() || per.isZero()) {
      throw new IllegalArgumentException("thenAtMost(builds, per): per must be positive, got "
          + per);
    }
    return new Wave(canaries, builds, per);
  }

  /**
   * Dependents rebuilt first, before the others.
   *
   * @return the number of canaries; 0 for none
   */
  public int canaries() {
    return canaries;
  }

  /**
   * Dependents released per {@link #per()} after the canaries.
   *
   * @return builds per window; 0 when unbounded
   */
  public int builds() {
    return builds;
  }

  /**
   * The window of {@link #builds()}.
   *
   * @return the window's length; empty when the rest are released at once
   */
  public Optional<Duration> per() {
    return Optional.ofNullable(per);
  }

  /** Whether this is {@link #all()}: no canaries, no rate. */
  boolean isAll() {
    return canaries == 0 && per == null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Wave w && canaries == w.canaries && builds == w.builds
        && Objects.equals(per, w.per);
  }

  @Override
  public int hashCode() {
    return Objects.hash(canaries, builds, per);
  }

  @Override
  public String toString() {
    if (isAll()) {
      return "Wave.all()";
    }
    String first = canaries == 0 ? "Wave.all()" : "Wave.canaryFirst(" + canaries + ")";
    return per == null ? first : first + ".thenAtMost(" + builds + ", " + per + ")";
  }
}
