package dev.statewright.harness.linearizability;

/**
 * One operation of a history: what was asked, what came back, and the global tickets of its
 * invocation and response. A pending operation (no response yet) may or may not have taken
 * effect; its output is null.
 *
 * @param id the operation's index in its history
 * @param partition the part of the state it touches (a key), or null for one shared state
 * @param input what was asked
 * @param output what came back; null if pending
 * @param invoked ticket taken at invocation
 * @param responded ticket taken at response; {@link Long#MAX_VALUE} if pending
 * @param client who invoked it (a thread or branch), for reports
 */
public record Operation(int id, Object partition, Object input, Object output, long invoked,
    long responded, String client) {

  /** Whether the operation never responded. */
  public boolean pending() {
    return responded == Long.MAX_VALUE;
  }

  @Override
  public String toString() {
    return client + ": " + input + (pending() ? " -> (pending)" : " -> " + output)
        + " [" + invoked + ".." + (pending() ? "∞" : responded) + "]";
  }
}
