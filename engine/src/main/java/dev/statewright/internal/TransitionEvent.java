package dev.statewright.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR: one state-machine transition of an entry or a resource. */
@Name("dev.statewright.Transition")
@Label("Statewright Transition")
@Category({"Statewright"})
@Description("A state machine moved from one state to another")
@StackTrace(false)
public final class TransitionEvent extends Event {
  private static final EventType TYPE = EventType.getEventType(TransitionEvent.class);

  @Label("Machine")
  public String machine;
  @Label("Key")
  public String key;
  @Label("From")
  public String from;
  @Label("Event")
  public String event;
  @Label("To")
  public String to;

  /** Records a transition if the event is enabled; cheap when it is not. */
  public static void emit(String machine, Object key, Enum<?> from, Enum<?> event, Enum<?> to) {
    if (!TYPE.isEnabled()) {
      return; // the lease read path allocates nothing when JFR does not record transitions
    }
    TransitionEvent jfr = new TransitionEvent();
    if (jfr.shouldCommit()) {
      jfr.machine = machine;
      jfr.key = String.valueOf(key);
      jfr.from = from.name();
      jfr.event = event.name();
      jfr.to = to.name();
      jfr.commit();
    }
  }
}
