package dev.statewright.lease;

/**
 * The state of a {@link LeasedResource}, in order of progress:
 * {@code STAGED -> IN_USE -> RELEASED}, with {@code IN_USE -> STAGED} when the last lease closes
 * while the owner still holds the resource. {@code RELEASED} is terminal.
 */
public enum ResourceState {
  /** Ready, no lease open. */
  STAGED,
  /** At least one lease open; the owner may already have retired it. */
  IN_USE,
  /** The release action ran; terminal. */
  RELEASED
}
