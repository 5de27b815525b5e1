package dev.statewright.harness.linearizability;

import static dev.statewright.harness.linearizability.Specs.REGISTER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.linearizability.Specs.Read;
import dev.statewright.harness.linearizability.Specs.Reg;
import dev.statewright.harness.linearizability.Specs.Write;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, finding 3: partitions are searched together, smallest first, taking turns under one
 * budget, and the check stops at the first partition proven non-linearizable, naming it. The old
 * checker searched them one after another in order of first appearance and spent a whole budget on
 * an effectively unbounded first key before looking at the next.
 */
class PartitionsTogetherTest {
  private final LinearizabilityChecker checker = new LinearizabilityChecker().withoutTimelines();

  @Test
  void aSmallIllegalKeyIsFoundAtOnceBehindAHardFirstKey() {
    List<Operation<Reg, Integer>> history = new ArrayList<>(Specs.concurrentWritesAndImpossibleReads("hard", 40, 0));
    history.add(new Operation<>(40, "small", new Write(1), Result.ok(1), 2_000, 2_001, "s"));
    history.add(new Operation<>(41, "small", new Read(), Result.ok(0), 2_002, 2_003, "s"));
    Verdict<Reg, Integer> verdict = checker.check(history, REGISTER);
    assertEquals(Verdict.Kind.ILLEGAL, verdict.kind(), verdict.toString());
    assertEquals("small", verdict.partition());
    assertTrue(verdict.steps() < 10, verdict.steps() + " steps: the smallest key went first");
    assertTrue(verdict.toString().contains("partition small"), verdict.toString());
  }

  @Test
  void aLargerIllegalKeyIsFoundWhileAHardSmallerKeyWaitsItsTurn() {
    List<Operation<Reg, Integer>> history = new ArrayList<>(Specs.concurrentWritesAndImpossibleReads("hard", 40, 0));
    long t = 2_000;
    for (int i = 0; i < 200; i++, t += 2) {
      boolean write = i % 2 == 0;
      history.add(new Operation<>(history.size(), "long", write ? new Write(i) : new Read(),
          Result.ok(write ? i : i - 1), t, t + 1, "l"));
    }
    history.add(new Operation<>(history.size(), "long", new Read(), Result.ok(-5), t, t + 1, "l"));
    Verdict<Reg, Integer> verdict = checker.check(history, REGISTER);
    assertEquals(Verdict.Kind.ILLEGAL, verdict.kind(), verdict.toString());
    assertEquals("long", verdict.partition());
    assertEquals(200, verdict.longestPrefix().size());
    assertTrue(verdict.steps() < 3 * LinearizabilityChecker.SLICE, verdict.steps() + " steps");
  }

  @Test
  void whenEveryKeyIsLinearizableEveryKeyIsChecked() {
    List<Operation<Reg, Integer>> history = LinearizabilityCheckerTest.registerHistory(
        new java.util.SplittableRandom(3), 2_000, 20, 5);
    Verdict<Reg, Integer> verdict = checker.check(history, REGISTER);
    assertTrue(verdict.linearizable(), verdict.toString());
    assertTrue(verdict.statesVisited() >= history.size(), verdict.statesVisited() + " states");
  }
}
