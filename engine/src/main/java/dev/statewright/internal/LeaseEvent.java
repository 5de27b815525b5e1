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

  @Label("Resource")
  public String resource;
  @Label("Holder")
  public String holder;

  /** A started event if JFR records leases, else null: the read path allocates nothing then. */
  public static LeaseEvent beginIfEnabled(String resource, String holder) {
    if (!TYPE.isEnabled()) {
      return null;
    }
    LeaseEvent jfr = new LeaseEvent();
    jfr.resource = resource;
    jfr.holder = holder;
    jfr.begin();
    return jfr;
  }
}
