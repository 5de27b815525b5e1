package dev.statewright.cache;

/**
 * The client an entry serves, with the spec and version it reflects. {@code revision} counts
 * rebuild-worthy changes (spec, dependency, invalidation) so a dependency change can ask for a new
 * client of the same version. {@code broken}: the client was invalidated and a replacement is due;
 * it is served only where staleness is tolerated (C11). A {@link Node} keeps one only when it is
 * not simply the desired spec, version and revision, unbroken (see {@code Node.servedApart}); the
 * client's refresh and expiry times ({@link #NEVER} for none) are its own (C12).
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

}
