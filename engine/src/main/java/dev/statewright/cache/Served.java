package dev.statewright.cache;

import dev.statewright.lease.LeasedResource;

/**
 * The client an entry serves, with the spec and version it reflects. {@code revision} counts
 * rebuild-worthy changes (spec or dependency) so a dependency change can ask for a new client of
 * the same version. {@code refreshAt} and {@code expiresAt} ({@code Scheduler.nanoTime()} scale,
 * {@link #NEVER} for none) are when the builder's expiry wants it rebuilt, and when it must no
 * longer be served (C12).
 */
record Served<S, C>(S spec, long version, long revision, LeasedResource<C> client, long refreshAt,
    long expiresAt) {
  /** No refresh or expiry. */
  static final long NEVER = Long.MAX_VALUE;

  /** A client that never expires. */
  Served(S spec, long version, long revision, LeasedResource<C> client) {
    this(spec, version, revision, client, NEVER, NEVER);
  }

  /** The same client, now known to reflect {@code spec} at {@code version} of {@code revision}. */
  Served<S, C> reflecting(S spec, long version, long revision) {
    return new Served<>(spec, version, revision, client, refreshAt, expiresAt);
  }

  /** Whether its lifetime is over at {@code now}: it may not be served (C12). */
  boolean expiredAt(long now) {
    return expiresAt != NEVER && now - expiresAt >= 0;
  }
}
