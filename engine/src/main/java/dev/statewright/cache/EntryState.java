package dev.statewright.cache;

/**
 * The state of one key of a {@link ClientCache}, in order of progress:
 * {@code STALE -> REBUILDING -> CURRENT}, back to {@code STALE} when the spec or a dependency
 * changes or a build fails; {@code REMOVED} is terminal (a tombstone).
 */
public enum EntryState {
  /** The served client (if any) is older than the desired spec; a build is due or backing off. */
  STALE,
  /** A build of the newest spec is in flight; the last good client (if any) is still served. */
  REBUILDING,
  /** The served client was built from the desired spec. */
  CURRENT,
  /** Deleted; terminal. Older events for the key are ignored. */
  REMOVED
}
