package dev.statewright.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR: one client build, timed from its start to its outcome. */
@Name("dev.statewright.Build")
@Label("Statewright Client Build")
@Category({"Statewright"})
@Description("A client cache built a client for one key and version")
@StackTrace(false)
public final class BuildEvent extends Event {
  @Label("Key")
  public String key;
  @Label("Version")
  public long version;
  @Label("Outcome")
  public String outcome;
}
