package dev.statewright.harness.linearizability;

import static dev.statewright.harness.linearizability.Specs.REGISTER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.linearizability.Specs.Reg;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, finding 2: the budget bounds memo memory and wall time as well as steps, over all
 * partitions together, answers UNKNOWN (saying which limit) when one is reached, and a check can
 * be cancelled by interrupting its thread. The old checker had only a per-partition step budget:
 * on a hard history with a large one it ran for minutes and out of memory.
 */
class CheckerBudgetTest {
  /** Twenty writes and twenty impossible reads, all concurrent: about 10 million states to exhaust. */
  private static final List<Operation<Reg, Integer>> HARD = Specs.concurrentWritesAndImpossibleReads("x", 40, 0);

  private static final Budget UNLIMITED = new Budget(Long.MAX_VALUE, Long.MAX_VALUE, Duration.ofDays(1));

  @Test
  void theDefaultBudgetIsStated() {
    Budget defaults = Budget.defaults();
    assertEquals(10_000_000, defaults.steps());
    assertEquals(Duration.ofSeconds(30), defaults.time());
    assertEquals(Math.min(512L << 20, Runtime.getRuntime().maxMemory() / 4), defaults.memoBytes());
  }

  @Test
  void aMemoThatOutgrowsItsBudgetAnswersUnknownInsteadOfRunningOutOfMemory() {
    long limit = 4L << 20;
    Verdict<Reg, Integer> verdict = checker(UNLIMITED.withMemoBytes(limit)).check(HARD, REGISTER);
    assertEquals(Verdict.Kind.UNKNOWN, verdict.kind(), verdict.toString());
    assertTrue(verdict.reason().startsWith("memo budget of " + limit), verdict.reason());
    assertEquals("x", verdict.partition());
    long perEntry = 96 + 8;
    assertTrue(verdict.statesVisited() * perEntry < limit + LinearizabilityChecker.SLICE * perEntry,
        verdict.statesVisited() + " states held");
  }

  @Test
  void aCheckThatOutlastsItsTimeAnswersUnknownSoonAfter() {
    // the check may spend up to 300 ms of wall time, so at most that much CPU time, before its
    // deadline, and must then stop within one slice; its wall time is also however long a loaded
    // machine kept it off a core (3.2 s once under load 30), so the bound is on CPU time
    ThreadCpu.Timed<Verdict<Reg, Integer>> timed =
        ThreadCpu.time(() -> checker(UNLIMITED.withTime(Duration.ofMillis(300))).check(HARD, REGISTER));
    Verdict<Reg, Integer> verdict = timed.value();
    assertEquals(Verdict.Kind.UNKNOWN, verdict.kind(), verdict.toString());
    assertTrue(verdict.reason().startsWith("time budget of 300 ms"), verdict.reason());
    assertTrue(timed.millis() < 3_000, timed.millis() + " ms of CPU time");
  }

  @Test
  void theStepBudgetIsSharedByAllPartitions() {
    List<Operation<Reg, Integer>> twoHardKeys = new java.util.ArrayList<>(HARD);
    twoHardKeys.addAll(Specs.concurrentWritesAndImpossibleReads("y", 40, 40));
    Verdict<Reg, Integer> verdict = checker(UNLIMITED.withSteps(50_000)).check(twoHardKeys, REGISTER);
    assertEquals(Verdict.Kind.UNKNOWN, verdict.kind());
    assertEquals(50_000, verdict.steps());
    assertTrue(verdict.reason().startsWith("step budget of 50000"), verdict.reason());
    assertEquals(2, verdict.partitions().size(), "both keys are named undecided");
    assertTrue(verdict.partitions().stream().allMatch(p -> p.steps() == 25_000), "they took turns");
  }

  @Test
  void interruptingTheCheckingThreadCancelsTheCheck() throws InterruptedException {
    AtomicReference<Verdict<Reg, Integer>> result = new AtomicReference<>();
    Thread thread = new Thread(() -> result.set(checker(UNLIMITED).check(HARD, REGISTER)), "checker");
    thread.start();
    thread.interrupt();
    thread.join(TimeUnit.SECONDS.toMillis(30));
    assertFalse(thread.isAlive(), "the check stopped");
    assertEquals(Verdict.Kind.UNKNOWN, result.get().kind());
    assertTrue(result.get().reason().startsWith("cancelled"), result.get().reason());
  }

  @Test
  void aCheckOnAnInterruptedThreadAnswersUnknownAndLeavesTheInterruptSet() {
    Thread.currentThread().interrupt();
    try {
      Verdict<Reg, Integer> verdict = checker(UNLIMITED).check(HARD, REGISTER);
      assertEquals(Verdict.Kind.UNKNOWN, verdict.kind());
      assertTrue(Thread.currentThread().isInterrupted());
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void aBudgetRefusesLimitsThatAreNotPositive() {
    assertThrows(IllegalArgumentException.class, () -> Budget.defaults().withSteps(0));
    assertThrows(IllegalArgumentException.class, () -> Budget.defaults().withMemoBytes(0));
    assertThrows(IllegalArgumentException.class, () -> Budget.defaults().withTime(Duration.ZERO));
  }

  private static LinearizabilityChecker checker(Budget budget) {
    return new LinearizabilityChecker(budget).withoutTimelines();
  }
}
