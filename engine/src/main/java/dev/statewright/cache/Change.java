package dev.statewright.cache;

/** How a new spec differs from the previous one, as a {@link ChangePolicy} judges it. */
public enum Change {
  /** Equal: nothing to do beyond recording the new version. */
  NONE,
  /** Different, but not in anything the client is built from: keep the client, serve the new spec. */
  METADATA,
  /** The client must be rebuilt. */
  REBUILD
}
