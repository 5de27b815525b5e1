package dev.statewright.harness.cache;

/**
 * How one simulated factory call behaves. Real factories are not all well-mannered asynchronous
 * builds: many return a future that is already complete, some throw before returning one, some
 * throw an {@link Error}, and some call back into the cache they build for.
 */
public enum BuildShape {
  /** Completes after a random latency of scheduler time (the well-mannered build). */
  LATER,
  /** Returns a stage that is already complete. */
  AT_ONCE,
  /** Returns a stage that has already failed. */
  FAILS_AT_ONCE,
  /** Throws a RuntimeException instead of returning a stage. */
  THROWS,
  /** Throws a {@link StackOverflowError} instead of returning a stage. */
  THROWS_ERROR,
  /** Fails its stage later with a {@link StackOverflowError}. */
  FAILS_WITH_ERROR,
  /** Calls back into the cache (upsert, delete or close) from inside build(), then completes at once. */
  REENTRANT;

  /** Whether a blocking factory can take this shape in a simulation (no waiting possible). */
  boolean synchronous() {
    return this != LATER && this != FAILS_WITH_ERROR;
  }
}
