package dev.statewright.harness.property;

import dev.statewright.harness.linearizability.Operation;
import dev.statewright.harness.linearizability.Verdict;
import java.util.List;

/**
 * What one run of one program showed.
 *
 * @param violations postcondition, linearizability and monitor failures; empty if it passed
 * @param verdict the linearizability verdict (null for sequential programs)
 * @param history the recorded operations
 * @param trace the interleaving: scheduler steps (simulation) or nothing (real threads)
 * @param steps scheduler steps run
 */
public record Outcome(List<String> violations, Verdict<?, ?> verdict, List<Operation<?, ?>> history,
    List<String> trace, long steps) {

  /** Whether the run found a violation. */
  public boolean failed() {
    return !violations.isEmpty();
  }

  /** Whether the checker ran out of budget. */
  public boolean unknown() {
    return verdict != null && verdict.kind() == Verdict.Kind.UNKNOWN;
  }
}
