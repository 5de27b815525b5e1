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

  /** The name of the lifecycle the machine follows. */
  @Label("Machine")
  public String machine;
  /** The key or resource name whose machine moved. */
  @Label("Key")
  public String key;
  /** The name of the state left. */
  @Label("From")
  public String from;
  /** The name of the event that fired. */
  @Label("Event")
  public String event;
  /** The name of the state entered. */
  @Label("To")
  public String to;

  /**
   * Records a transition if the event is enabled; cheap when it is not.
   *
   * @param machine the name of the lifecycle the machine follows
   * @param key the cache key or resource name whose machine moved; rendered with
   *     {@link String#valueOf(Object)}, so null is recorded as {@code "null"}
   * @param from the state left
   * @param event the event that fired
   * @param to the state entered
   */
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
