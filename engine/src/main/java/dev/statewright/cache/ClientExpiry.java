package dev.statewright.cache;

import java.time.Duration;
import java.util.function.BiFunction;

/**
 * The builder's {@code expiry(lifetime)} and {@code refreshAhead(fraction)}: how long a freshly
 * built client may be served, and when its replacement is built. The lifetime function is user
 * code, asked once per successful build, isolated: a lifetime it cannot give (it throws any
 * {@code Throwable}, returns null, zero or a negative duration) fails that build, so a client whose
 * lifetime is unknown is never served (C12) and C7 applies (the last good client is kept until its
 * own expiry, and the build is retried with backoff).
 *
 * @param <S> the spec type
 * @param <C> the client type
 */
final class ClientExpiry<S, C> {
  /** The default share of a lifetime after which the client is rebuilt. */
  static final double DEFAULT_REFRESH_AHEAD = 0.8;

  private final BiFunction<? super S, ? super C, Duration> lifetime; // null: clients never expire
  private final double refreshAhead;

  ClientExpiry(BiFunction<? super S, ? super C, Duration> lifetime, double refreshAhead) {
    this.lifetime = lifetime;
    this.refreshAhead = refreshAhead;
  }

  /** The refresh fraction, checked: in (0, 1]. */
  static double fraction(double refreshAhead) {
    if (!(refreshAhead > 0 && refreshAhead <= 1)) { // NaN fails too
      throw new IllegalArgumentException("refreshAhead must be in (0, 1], got " + refreshAhead);
    }
    return refreshAhead;
  }

  /**
   * When a client built now from {@code spec} is refreshed and when it expires.
   *
   * @param now the time the build finished
   * @return {@code {refreshAt, expiresAt}}, {@link Served#NEVER} for both without an expiry
   * @throws IllegalStateException naming the key and version if the lifetime cannot be had
   */
  /** The term of a client that never expires, shared by all of them; never written. */
  static final long[] ENDLESS = {Served.NEVER, Served.NEVER};
  /** Delays from this one on (about 146 years) are never due: see {@link #at}. */
  private static final long HORIZON = Long.MAX_VALUE / 2;

  long[] termOf(Object key, long version, S spec, C client, long now) {
    if (lifetime == null) {
      return ENDLESS;
    }
    Duration d;
    try {
      d = lifetime.apply(spec, client);
    } catch (Throwable t) { // any Throwable, as for the factory: this build fails, nothing else
      throw new IllegalStateException("the expiry lifetime of '" + key + "' at version " + version
          + " threw " + t, t);
    }
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalStateException("the expiry lifetime of '" + key + "' at version " + version
          + " must be positive, got " + d);
    }
    long nanos = saturatedNanos(d);
    long ahead = Math.max(1, (long) (nanos * refreshAhead));
    return new long[] {at(now, ahead), at(now, nanos)};
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException tooLong) {
      return Served.NEVER;
    }
  }

  /**
   * {@code now + delay}, wrapping as the clock does (its origin is arbitrary, so a reading near
   * {@code Long.MAX_VALUE} goes on past it, and times are compared by their difference only); NEVER
   * from half the clock's range on, beyond which such a difference overflows.
   */
  private static long at(long now, long delay) {
    if (delay >= HORIZON) {
      return Served.NEVER;
    }
    long due = now + delay;
    return due == Served.NEVER ? due - 1 : due; // a time, never the sentinel
  }
}
