package dev.statewright.cache;

/** What moves a cache entry between {@link EntryState}s. */
public enum EntryEvent {
  /** A spec that needs a new client arrived. */
  SPEC_CHANGED,
  /** A spec arrived that the served client already fits (a new version, metadata only). */
  METADATA_CHANGED,
  /** Something the spec depends on (a Secret holding its token) changed. */
  DEPENDENCY_CHANGED,
  /**
   * The served client was reported failing ({@link ClientCache#invalidate},
   * {@link ClientLease#reportFailure}): it is served only under bounded staleness until a
   * replacement is built.
   */
  INVALIDATED,
  /** A build began. */
  BUILD_STARTED,
  /** A build finished and its client is the newest: the entry is current. */
  BUILD_SUCCEEDED,
  /** A build finished but a newer spec arrived meanwhile: its client is served, the next build starts. */
  BUILD_SUPERSEDED,
  /** A build threw, returned null or exceeded its timeout. */
  BUILD_FAILED,
  /**
   * A newer rebuild-worthy spec arrived while the build had run at least the builder's
   * {@code supersede} duration: the build is given up (its late result released) and the newest
   * spec waits for a permit.
   */
  BUILD_ABANDONED,
  /**
   * The served client reached {@code refreshAhead × lifetime} of its expiry lifetime: a rebuild of
   * the same spec is wanted; the client keeps serving until it expires.
   */
  REFRESH_DUE,
  /** The served client's lifetime ended: it is served no more, readers wait for its replacement. */
  CLIENT_EXPIRED,
  /** A spec classified {@link Change#RECONFIGURE} arrived: the reconfigurer updates the client. */
  RECONFIGURE_STARTED,
  /** The reconfigurer returned: the same client now serves the new spec. */
  RECONFIGURED,
  /**
   * The reconfigurer returned, but a newer change arrived meanwhile: the same client serves the
   * spec it was reconfigured to, and a build of the newest spec is wanted.
   */
  RECONFIGURE_SUPERSEDED,
  /**
   * The reconfigurer threw (any {@code Throwable}), exceeded the build timeout, or its client was
   * replaced or expired meanwhile: the cache falls back to a rebuild, at once.
   */
  RECONFIGURE_FAILED,
  /** The key was deleted. */
  DELETED
}
