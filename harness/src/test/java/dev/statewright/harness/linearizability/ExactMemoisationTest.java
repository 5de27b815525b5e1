package dev.statewright.harness.linearizability;

import static dev.statewright.harness.linearizability.Specs.REGISTER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.linearizability.Specs.Read;
import dev.statewright.harness.linearizability.Specs.Reg;
import dev.statewright.harness.linearizability.Specs.Write;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The checker enters each (linearized set, state) pair at most once: on small random register
 * histories its count of states entered is held to a brute-force enumeration of the reachable
 * pairs — equal when the history is not linearizable (the search must exhaust them), at most that
 * otherwise. The canary, a checker whose memo entries change after they are stored (the bug of
 * issue 12), must fail the same comparison.
 */
class ExactMemoisationTest {
  private static final int HISTORIES = 400;

  @Test
  void everyReachableStateIsEnteredExactlyOnceWhenTheSearchMustExhaustThem() {
    long seed = seed();
    LinearizabilityChecker exact = new LinearizabilityChecker().withoutTimelines();
    SplittableRandom random = new SplittableRandom(seed);
    int illegal = 0;
    for (int h = 0; h < HISTORIES; h++) {
      List<Operation<Reg, Integer>> history = randomHistory(random);
      Verdict<Reg, Integer> verdict = exact.check(history, REGISTER);
      int reachable = BruteForce.reachable(history, REGISTER);
      String why = "history " + h + " of seed " + seed + " (-Dstatewright.seed=" + seed + "): " + history;
      if (verdict.kind() == Verdict.Kind.ILLEGAL) {
        illegal++;
        assertEquals(reachable - 1, verdict.statesVisited(), why);
      } else {
        assertEquals(Verdict.Kind.LINEARIZABLE, verdict.kind(), why);
        assertTrue(verdict.statesVisited() <= reachable - 1, why);
      }
    }
    System.out.println("exact memo: " + HISTORIES + " histories of seed " + seed + ", " + illegal
        + " not linearizable, every state entered once");
    assertTrue(illegal > HISTORIES / 5, "enough histories exercise the exhaustive case: " + illegal);
  }

  @Test
  void canaryAMemoWhoseEntriesChangeAfterTheyAreStoredIsCaughtByTheBruteForceCount() {
    long seed = seed();
    LinearizabilityChecker canary = LinearizabilityChecker.mutableMemoCanary(Budget.defaults());
    SplittableRandom random = new SplittableRandom(seed);
    int caught = 0;
    for (int h = 0; h < HISTORIES; h++) {
      List<Operation<Reg, Integer>> history = randomHistory(random);
      Verdict<Reg, Integer> verdict = canary.check(history, REGISTER);
      int reachable = BruteForce.reachable(history, REGISTER);
      boolean exhausted = verdict.kind() == Verdict.Kind.ILLEGAL;
      if (exhausted ? verdict.statesVisited() != reachable - 1 : verdict.statesVisited() > reachable - 1) {
        caught++;
      }
    }
    System.out.println("mutable-memo canary: caught on " + caught + " of " + HISTORIES
        + " histories of seed " + seed);
    assertTrue(caught > 0, "the brute-force comparison missed the mutable memo (seed " + seed + ")");
  }

  private static long seed() {
    String fixed = System.getProperty("statewright.seed");
    return fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
  }

  /**
   * Three to four clients, five to eleven operations on one register, tickets drawn from a small
   * range so equal tickets happen; a few results unknown; reads return random values, so many
   * histories are not linearizable.
   */
  static List<Operation<Reg, Integer>> randomHistory(SplittableRandom random) {
    int clients = 3 + random.nextInt(2);
    int count = 5 + random.nextInt(7);
    long[] free = new long[clients];
    List<Operation<Reg, Integer>> ops = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int client = random.nextInt(clients);
      long invoked = free[client] + random.nextInt(3);
      long responded = invoked + random.nextInt(4);
      free[client] = responded + 1;
      boolean write = random.nextInt(5) < 2;
      Reg input = write ? new Write(1 + random.nextInt(3)) : new Read();
      Result<Integer> result = random.nextInt(8) == 0 ? Result.unknown()
          : Result.ok(write ? 0 : random.nextInt(4));
      ops.add(new Operation<>(i, "x", input, result, invoked, result.isOk() ? responded : Long.MAX_VALUE,
          "c" + client));
    }
    return ops;
  }
}
