package dev.statewright.cache;

/** How a new spec differs from the previous one, as a {@link ChangePolicy} judges it. */
public enum Change {
  /** Equal: nothing to do beyond recording the new version. */
  NONE,
  /** Different, but not in anything the client is built from: keep the client, serve the new spec. */
  METADATA,
  /**
   * Different only in what the live client can take in place (a rotated token): the builder's
   * {@link Reconfigurer} updates the served client without a rebuild. Without a reconfigurer, or
   * when it throws, or when the entry is not CURRENT (a build is in flight or wanted), it is a
   * {@link #REBUILD}.
   */
  RECONFIGURE,
  /** The client must be rebuilt. */
  REBUILD
}
