package dev.statewright.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR: one lease, timed from acquire to close. */
@Name("dev.statewright.Lease")
@Label("Statewright Lease")
@Category({"Statewright"})
@Description("A holder held a lease on a resource")
@StackTrace(false)
public final class LeaseEvent extends Event {
  private static final EventType TYPE = EventType.getEventType(LeaseEvent.class);

  /** The name of the leased resource. */
  @Label("Resource")
  public String resource;
  /** Who held the lease, as the caller of acquire named it. */
  @Label("Holder")
  public String holder;

  /**
   * A started event if JFR records leases, else null: the read path allocates nothing then.
   *
   * @param resource the name of the leased resource, rendered with {@link String#valueOf(Object)}
   *     only when the event is recorded
   * @param holder who acquires the lease
   * @return the event, begun now, to commit when the lease closes; null when JFR does not
   *     record lease events
   */
  public static LeaseEvent beginIfEnabled(Object resource, String holder) {
    if (!TYPE.isEnabled()) {
      return null;
    }
    LeaseEvent jfr = new LeaseEvent();
    jfr.resource = String.valueOf(resource);
    jfr.holder = holder;
    jfr.begin();
    return jfr;
  }
}
