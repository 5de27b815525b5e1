package dev.statewright.harness.linearizability;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What the search found in one partition.
 *
 * @param partition the partition (a key), or null for one shared state
 * @param kind its answer
 * @param operations its operations (failed ones left out: they did not take effect)
 * @param longestPrefix operations in a valid linearization order, as far as the search got
 * @param prefixStates the spec state after each operation of {@code longestPrefix}
 * @param unplaceable the first operation (by response) outside that prefix; null if linearizable
 * @param steps search steps spent on it
 * @param statesVisited (linearized set, state) pairs entered; with an exact memo, each once
 * @param <I> the input type
 * @param <O> the output type
 */
public record PartitionVerdict<I, O>(Object partition, Verdict.Kind kind,
    List<Operation<I, O>> operations, List<Operation<I, O>> longestPrefix, List<Object> prefixStates,
    Operation<I, O> unplaceable, long steps, long statesVisited) {

  /**
   * Copies the lists.
   *
   * @param partition the partition
   * @param kind its answer
   * @param operations its operations
   * @param longestPrefix the longest linearizable prefix found
   * @param prefixStates the state after each operation of it (states may be null)
   * @param unplaceable the first operation outside it, or null
   * @param steps search steps spent on it
   * @param statesVisited pairs entered
   */
  public PartitionVerdict {
    operations = List.copyOf(operations);
    longestPrefix = List.copyOf(longestPrefix);
    prefixStates = Collections.unmodifiableList(new ArrayList<>(prefixStates));
    if (prefixStates.size() != longestPrefix.size()) {
      throw new IllegalArgumentException(prefixStates.size() + " states for a prefix of "
          + longestPrefix.size() + " operations");
    }
  }
}
