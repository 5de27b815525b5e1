package dev.statewright.cache;

/**
 * The client an entry serves, with the spec and version it reflects. {@code revision} counts
 * rebuild-worthy changes (spec, dependency, invalidation) so a dependency change can ask for a new
 * client of the same version. {@code broken}: the client was invalidated and a replacement is due;
 * it is served only where staleness is tolerated (C11). {@link #refreshAt} and {@link #expiresAt}
 * ({@code Scheduler.nanoTime()} scale, {@link #NEVER} for none) are when the builder's expiry
 * wants it rebuilt, and when it must no longer be served (C12): the client's own, kept there, as
 * they never change while it is served.
 */
record Served<S, C>(S spec, long version, long revision, ServedClient<C> client, boolean broken) {
  /** No refresh or expiry. */
  static final long NEVER = Long.MAX_VALUE;

  /** A client that works. */
  Served(S spec, long version, long revision, ServedClient<C> client) {
    this(spec, version, revision, client, false);
  }

  /** The same client, now known to reflect {@code spec} at {@code version} of {@code revision}. */
  Served<S, C> reflecting(S spec, long version, long revision) {
    return new Served<>(spec, version, revision, client, broken);
  }

  /** The same client, reported failing (C11). */
  Served<S, C> markedBroken() {
    return new Served<>(spec, version, revision, client, true);
  }

  /** When the builder's expiry wants the client rebuilt; {@link #NEVER} for never. */
  long refreshAt() {
    return client.refreshAt();
  }

  /** When the client must no longer be served; {@link #NEVER} for never. */
  long expiresAt() {
    return client.expiresAt();
  }

  /** Whether its lifetime is over at {@code now}: it may not be served (C12). */
  boolean expiredAt(long now) {
    long expiresAt = expiresAt();
    return expiresAt != NEVER && now - expiresAt >= 0;
  }
}
