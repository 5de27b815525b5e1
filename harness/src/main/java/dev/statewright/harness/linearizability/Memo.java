package dev.statewright.harness.linearizability;

/**
 * The (linearized set, state) pairs a search has already entered: Lowe's memoisation. Not
 * thread-safe; one per partition search.
 */
interface Memo {

  /**
   * Records the pair unless it is already there.
   *
   * @param linearized the linearized set as bit words; the caller keeps changing this array
   *     after the call, so an entry must never keep it
   * @param state the spec state after that set
   * @return true if the pair was new
   */
  boolean firstVisit(long[] linearized, Object state);

  /**
   * Estimated bytes held by the entries and their table (states are shared with the search and
   * not counted).
   *
   * @return the estimate
   */
  long bytes();
}
