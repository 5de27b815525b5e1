package dev.statewright.lease;

/** What moves a {@link LeasedResource} between {@link ResourceState}s. */
public enum ResourceEvent {
  /** A holder opened a lease. */
  ACQUIRED,
  /** A lease closed; others remain open. */
  LEASE_CLOSED,
  /** The last lease closed while the owner still holds the resource. */
  LAST_LEASE_CLOSED,
  /** The owner let go. */
  RETIRED,
  /** The last lease closed after the owner let go: the release action runs. */
  DRAINED
}
