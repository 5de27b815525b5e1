package dev.statewright.lease;

import java.time.Instant;
import java.util.Optional;

/**
 * A lease was asked of a resource its owner has retired or that is already released. The message
 * names the resource, when it was released and by whom.
 */
public final class ResourceReleasedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /** The name of the resource that refused the lease. */
  private final String resource;
  private final transient Instant releasedAt;
  /** Who released it; null while it is retired but not yet released. */
  private final String releasedBy;

  ResourceReleasedException(String resource, String holder, Instant releasedAt, String releasedBy,
      Instant retiredAt) {
    super(message(resource, holder, releasedAt, releasedBy, retiredAt));
    this.resource = resource;
    this.releasedAt = releasedAt;
    this.releasedBy = releasedBy;
  }

  private static String message(String resource, String holder, Instant releasedAt,
      String releasedBy, Instant retiredAt) {
    String head = "cannot lease '" + resource + "' to " + holder + ": ";
    if (releasedAt != null) {
      return head + "it was released at " + releasedAt + " by " + releasedBy;
    }
    return head + "its owner retired it" + (retiredAt == null ? "" : " at " + retiredAt)
        + "; it is released when its open leases close";
  }

  /**
   * The resource's name.
   *
   * @return the name the resource was created with
   */
  public String resource() {
    return resource;
  }

  /**
   * When the release action ran, if it has.
   *
   * @return the release time read from the resource's scheduler; empty if the resource is retired
   *     but still has open leases, or if this exception was deserialized (the time is not kept)
   */
  public Optional<Instant> releasedAt() {
    return Optional.ofNullable(releasedAt);
  }

  /**
   * Who released it: the holder whose close was last, or the owner; empty if not yet released.
   *
   * @return the holder name of the last lease closed, or {@code "its owner"} when retiring released
   *     it; empty while leases are still open
   */
  public Optional<String> releasedBy() {
    return Optional.ofNullable(releasedBy);
  }
}
