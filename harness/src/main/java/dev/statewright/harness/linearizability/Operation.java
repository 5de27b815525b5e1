package dev.statewright.harness.linearizability;

import java.util.Objects;

/**
 * One operation of a history: what was asked, how it ended, and the global tickets of its
 * invocation and response. Operations whose intervals overlap — equal tickets included — are
 * concurrent; one whose response ticket is below another's invocation ticket precedes it.
 *
 * @param id the operation's index in its history
 * @param partition the part of the state it touches (a key), or null for one shared state
 * @param input what was asked
 * @param result how it ended; an {@link Result#unknown() unknown} result may take effect any time
 *     after {@code invoked}, so its {@code responded} ticket only says when its caller gave up
 * @param invoked ticket taken at invocation
 * @param responded ticket taken at response, at least {@code invoked}; {@link Long#MAX_VALUE}
 *     if there was none
 * @param client who invoked it (a thread or branch), for reports and timelines
 * @param <I> the input type
 * @param <O> the output type
 */
public record Operation<I, O>(int id, Object partition, I input, Result<O> result, long invoked,
    long responded, String client) {

  /**
   * Checks the operation.
   *
   * @param id the operation's index in its history
   * @param partition the part of the state it touches, or null
   * @param input what was asked
   * @param result how it ended
   * @param invoked ticket taken at invocation
   * @param responded ticket taken at response, at least {@code invoked}
   * @param client who invoked it
   * @throws NullPointerException if {@code result} or {@code client} is null
   * @throws IllegalArgumentException if the response precedes the invocation
   */
  public Operation {
    Objects.requireNonNull(result, "result (use Result.unknown() for an operation with no response)");
    Objects.requireNonNull(client, "client");
    if (responded < invoked) {
      throw new IllegalArgumentException("operation " + id + " (" + client + ": " + input
          + ") responded at ticket " + responded + ", before its invocation at ticket " + invoked);
    }
  }

  /**
   * Whether it may take effect at any time after its invocation, or never.
   *
   * @return true if its result is unknown
   */
  public boolean pending() {
    return result.kind() == Result.Kind.UNKNOWN;
  }

  /**
   * The ticket by which it certainly took effect, for the search: {@link Long#MAX_VALUE} when
   * its result is unknown.
   *
   * @return the response ticket, or {@link Long#MAX_VALUE} if pending
   */
  public long deadline() {
    return pending() ? Long.MAX_VALUE : responded;
  }

  @Override
  public String toString() {
    return client + ": " + input + " -> " + result + " [" + invoked + ".."
        + (responded == Long.MAX_VALUE ? "∞" : String.valueOf(responded)) + "]";
  }
}
