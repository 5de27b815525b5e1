package dev.statewright.harness.linearizability;

import java.util.List;

/**
 * The checker's answer. For {@link Kind#ILLEGAL}: the longest linearizable prefix found and the
 * first operation that could not be placed after it.
 *
 * @param kind the answer
 * @param partition the partition the answer is about (the first illegal or unknown one)
 * @param longestPrefix operations in a valid linearization order, as far as the search got
 * @param unplaceable the first operation (by response) outside that prefix; null unless ILLEGAL
 * @param steps search steps taken, over all partitions
 */
public record Verdict(Kind kind, Object partition, List<Operation> longestPrefix,
    Operation unplaceable, long steps) {

  /** The three answers. */
  public enum Kind {
    /** A linearization exists. */
    LINEARIZABLE,
    /** None exists. */
    ILLEGAL,
    /** The step budget ran out first. */
    UNKNOWN
  }

  /** Whether a linearization exists. */
  public boolean linearizable() {
    return kind == Kind.LINEARIZABLE;
  }

  @Override
  public String toString() {
    if (kind != Kind.ILLEGAL) {
      return kind + " (" + steps + " steps)";
    }
    StringBuilder out = new StringBuilder("ILLEGAL in partition " + partition + " (" + steps + " steps)\n");
    out.append("  longest linearizable prefix:\n");
    longestPrefix.forEach(op -> out.append("    ").append(op).append('\n'));
    out.append("  cannot place: ").append(unplaceable);
    return out.toString();
  }
}
