/**
 * Statewright: explicit state machines that keep cached clients consistent with their specs and
 * share staged artifacts safely between the targets of one run. JDK only.
 */
module dev.statewright.engine {
  requires jdk.jfr;

  exports dev.statewright.lifecycle;
  exports dev.statewright.lease;
  exports dev.statewright.cache;
  exports dev.statewright.staging;
  exports dev.statewright.event;
  exports dev.statewright.time;
}
