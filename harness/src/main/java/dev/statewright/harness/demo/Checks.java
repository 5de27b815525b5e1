package dev.statewright.harness.demo;

import java.io.PrintStream;

/** Tallies the demonstration's checks and prints each as it is made. */
final class Checks {
  private final PrintStream out;
  private int passed;
  private int failed;

  Checks(PrintStream out) {
    this.out = out;
  }

  /** Records one check of {@code invariant}; {@code detail} says what was seen. */
  synchronized boolean check(String invariant, String claim, boolean holds, String detail) {
    if (holds) {
      passed++;
    } else {
      failed++;
    }
    out.printf("  [%s] %-3s %s%s%n", holds ? " ok " : "FAIL", invariant, claim,
        detail.isEmpty() ? "" : " -- " + detail);
    return holds;
  }

  synchronized int passed() {
    return passed;
  }

  synchronized int failed() {
    return failed;
  }
}
