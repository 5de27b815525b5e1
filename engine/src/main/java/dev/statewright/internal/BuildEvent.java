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
  /** The key of the entry built, as {@link String#valueOf(Object)} renders it. */
  @Label("Key")
  public String key;
  /** The version of the spec the build was for. */
  @Label("Version")
  public long version;
  /** {@code built} if the factory returned a client, else the error it failed with. */
  @Label("Outcome")
  public String outcome;
}
