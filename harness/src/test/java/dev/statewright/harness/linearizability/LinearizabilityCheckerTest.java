package dev.statewright.harness.linearizability;

import static dev.statewright.harness.linearizability.Specs.QUEUE;
import static dev.statewright.harness.linearizability.Specs.REGISTER;
import static dev.statewright.harness.linearizability.Specs.op;
import static dev.statewright.harness.linearizability.Specs.pending;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.linearizability.Specs.Read;
import dev.statewright.harness.linearizability.Specs.Reg;
import dev.statewright.harness.linearizability.Specs.Write;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {
  private final LinearizabilityChecker checker = new LinearizabilityChecker().withoutTimelines();

  @Test
  void overlappingWriteAndReadMayGoEitherWay() {
    List<Operation<Reg, Integer>> h = List.of(op(0, new Write(1), 1, 1, 4), op(1, new Read(), 1, 2, 3),
        op(2, new Read(), 0, 2, 5));
    assertTrue(checker.check(h, REGISTER).linearizable());
  }

  @Test
  void aReadOfAValueNeverWrittenIsIllegalAndTheReportSaysWhichOp() {
    List<Operation<Reg, Integer>> h = List.of(op(0, new Write(1), 1, 1, 2), op(1, new Read(), 2, 3, 4));
    Verdict<Reg, Integer> verdict = checker.check(h, REGISTER);
    assertEquals(Verdict.Kind.ILLEGAL, verdict.kind());
    assertEquals(1, verdict.unplaceable().id());
    assertEquals(List.of(h.get(0)), verdict.longestPrefix());
    assertEquals("x", verdict.partition());
  }

  @Test
  void aStaleReadAfterTheWriteCompletedIsIllegal() {
    List<Operation<Reg, Integer>> h = List.of(op(0, new Write(1), 1, 1, 2), op(1, new Read(), 0, 3, 4));
    assertEquals(Verdict.Kind.ILLEGAL, checker.check(h, REGISTER).kind());
  }

  @Test
  void aPendingWriteMayOrMayNotHaveTakenEffect() {
    List<Operation<Reg, Integer>> seen = List.of(pending(0, new Write(7), 1), op(1, new Read(), 7, 2, 3));
    List<Operation<Reg, Integer>> unseen = List.of(pending(0, new Write(7), 1), op(1, new Read(), 0, 2, 3));
    assertTrue(checker.check(seen, REGISTER).linearizable());
    assertTrue(checker.check(unseen, REGISTER).linearizable());
  }

  @Test
  void aQueueThatDequeuesOutOfOrderIsCaught() {
    List<Operation<Integer, Integer>> fifo = List.of(op(0, 1, 0, 1, 2), op(1, 2, 0, 3, 4),
        op(2, null, 1, 5, 6), op(3, null, 2, 7, 8));
    List<Operation<Integer, Integer>> lifo = List.of(op(0, 1, 0, 1, 2), op(1, 2, 0, 3, 4),
        op(2, null, 2, 5, 6));
    List<Operation<Integer, Integer>> concurrentEnqueues = List.of(op(0, 1, 0, 1, 4), op(1, 2, 0, 2, 3),
        op(2, null, 2, 5, 6));
    assertTrue(checker.check(fifo, QUEUE).linearizable());
    assertEquals(Verdict.Kind.ILLEGAL, checker.check(lifo, QUEUE).kind());
    assertTrue(checker.check(concurrentEnqueues, QUEUE).linearizable());
  }

  @Test
  void tenThousandOperationsOverAHundredKeysCheckInUnderTwoSeconds() {
    List<Operation<Reg, Integer>> history = registerHistory(new SplittableRandom(7), 10_000, 100, 4);
    // CPU time: the check is this thread's work; a loaded machine stretches its wall time
    ThreadCpu.Timed<Verdict<Reg, Integer>> timed = ThreadCpu.time(() -> checker.check(history, REGISTER));
    Verdict<Reg, Integer> verdict = timed.value();
    long millis = timed.millis();
    System.out.println("checker: 10,000 ops over 100 keys: " + verdict.kind() + " in " + millis
        + " ms of CPU time, " + verdict.steps() + " steps");
    assertTrue(verdict.linearizable(), verdict.toString());
    assertTrue(millis < 2_000, millis + " ms of CPU time");
  }

  @Test
  void thirtyFullyConcurrentOperationsOnOneKeyAreProvenIllegalWithinTheDefaultBudget() {
    List<Operation<Reg, Integer>> history = Specs.concurrentWritesAndImpossibleReads("x", 30, 0);
    // the default budget's steps and memo as they are; its 30 s as CPU time, measured here, since
    // its own clock is the wall's, which a loaded machine stretches (19.6 s of 30 once under load 30)
    Budget defaults = Budget.defaults();
    ThreadCpu.Timed<Verdict<Reg, Integer>> timed = ThreadCpu.time(() ->
        new LinearizabilityChecker(defaults.withTime(Duration.ofDays(1))).withoutTimelines()
            .check(history, REGISTER));
    Verdict<Reg, Integer> verdict = timed.value();
    long millis = timed.millis();
    System.out.println("checker: 30 concurrent ops on one key: " + verdict.kind() + " in " + millis
        + " ms of CPU time, " + verdict.steps() + " steps, " + verdict.statesVisited() + " states");
    assertEquals(Verdict.Kind.ILLEGAL, verdict.kind(), verdict.toString()); // within the steps and memo
    assertTrue(millis < defaults.time().toMillis(), millis + " ms of CPU time");
    assertEquals(245_760, verdict.statesVisited(), "15 writes: each nonempty subset, ending in each of its writes");
  }

  /**
   * A linearizable register history: each client does operations whose effect happens at a random
   * point inside its own window, and windows of different clients overlap.
   */
  static List<Operation<Reg, Integer>> registerHistory(SplittableRandom random, int count, int keys, int clients) {
    List<Operation<Reg, Integer>> ops = new ArrayList<>(count);
    int[] values = new int[keys];
    long[] clientFree = new long[clients];
    long time = 0;
    for (int i = 0; i < count; i++) {
      int client = random.nextInt(clients);
      int key = random.nextInt(keys);
      long invoked = Math.max(clientFree[client], time) + 1;
      long effect = invoked + 1 + random.nextInt(3);
      long responded = effect + 1 + random.nextInt(3);
      time = effect; // effects happen in this order
      clientFree[client] = responded;
      Reg input = random.nextBoolean() ? new Write(random.nextInt(5)) : new Read();
      int output;
      if (input instanceof Write w) {
        values[key] = w.value();
        output = w.value();
      } else {
        output = values[key];
      }
      ops.add(new Operation<>(i, key, input, Result.ok(output), invoked * 10 + client, responded * 10 + client,
          "c" + client));
    }
    return ops;
  }
}
