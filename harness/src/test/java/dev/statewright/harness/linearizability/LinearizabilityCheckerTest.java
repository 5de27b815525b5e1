package dev.statewright.harness.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {
  record Write(int value) { }

  record Read() { }

  record Enq(int value) { }

  record Deq() { }

  /** A register holding an int, initially 0. */
  static final SequentialSpec<Integer> REGISTER = new SequentialSpec<>() {
    @Override
    public Integer initial() {
      return 0;
    }

    @Override
    public Optional<Integer> apply(Integer state, Object input, Object output) {
      if (input instanceof Write w) {
        return Optional.of(w.value());
      }
      return output == null || output.equals(state) ? Optional.of(state) : Optional.empty();
    }
  };

  /** A FIFO queue; dequeue of an empty queue returns -1. */
  static final SequentialSpec<List<Integer>> QUEUE = new SequentialSpec<>() {
    @Override
    public List<Integer> initial() {
      return List.of();
    }

    @Override
    public Optional<List<Integer>> apply(List<Integer> state, Object input, Object output) {
      if (input instanceof Enq e) {
        List<Integer> next = new ArrayList<>(state);
        next.add(e.value());
        return Optional.of(List.copyOf(next));
      }
      int head = state.isEmpty() ? -1 : state.get(0);
      if (output != null && !output.equals(head)) {
        return Optional.empty();
      }
      return Optional.of(state.isEmpty() ? state : List.copyOf(state.subList(1, state.size())));
    }
  };

  private final LinearizabilityChecker checker = new LinearizabilityChecker(1_000_000);

  private static Operation op(int id, Object input, Object output, long from, long to) {
    return new Operation(id, "x", input, output, from, to, "c" + id);
  }

  @Test
  void overlappingWriteAndReadMayGoEitherWay() {
    List<Operation> h = List.of(op(0, new Write(1), "ok", 1, 4), op(1, new Read(), 1, 2, 3),
        op(2, new Read(), 0, 2, 5));
    assertTrue(checker.check(h, REGISTER).linearizable());
  }

  @Test
  void aReadOfAValueNeverWrittenIsIllegalAndTheReportSaysWhichOp() {
    List<Operation> h = List.of(op(0, new Write(1), "ok", 1, 2), op(1, new Read(), 2, 3, 4));
    Verdict verdict = checker.check(h, REGISTER);
    assertEquals(Verdict.Kind.ILLEGAL, verdict.kind());
    assertEquals(1, verdict.unplaceable().id());
    assertEquals(List.of(h.get(0)), verdict.longestPrefix());
  }

  @Test
  void aStaleReadAfterTheWriteCompletedIsIllegal() {
    List<Operation> h = List.of(op(0, new Write(1), "ok", 1, 2), op(1, new Read(), 0, 3, 4));
    assertEquals(Verdict.Kind.ILLEGAL, checker.check(h, REGISTER).kind());
  }

  @Test
  void aPendingWriteMayOrMayNotHaveTakenEffect() {
    List<Operation> seen = List.of(op(0, new Write(7), null, 1, Long.MAX_VALUE), op(1, new Read(), 7, 2, 3));
    List<Operation> unseen = List.of(op(0, new Write(7), null, 1, Long.MAX_VALUE), op(1, new Read(), 0, 2, 3));
    assertTrue(checker.check(seen, REGISTER).linearizable());
    assertTrue(checker.check(unseen, REGISTER).linearizable());
  }

  @Test
  void aQueueThatDequeuesOutOfOrderIsCaught() {
    List<Operation> fifo = List.of(op(0, new Enq(1), "ok", 1, 2), op(1, new Enq(2), "ok", 3, 4),
        op(2, new Deq(), 1, 5, 6), op(3, new Deq(), 2, 7, 8));
    List<Operation> lifo = List.of(op(0, new Enq(1), "ok", 1, 2), op(1, new Enq(2), "ok", 3, 4),
        op(2, new Deq(), 2, 5, 6));
    List<Operation> concurrentEnqueues = List.of(op(0, new Enq(1), "ok", 1, 4), op(1, new Enq(2), "ok", 2, 3),
        op(2, new Deq(), 2, 5, 6));
    assertTrue(checker.check(fifo, QUEUE).linearizable());
    assertEquals(Verdict.Kind.ILLEGAL, checker.check(lifo, QUEUE).kind());
    assertTrue(checker.check(concurrentEnqueues, QUEUE).linearizable());
  }

  @Test
  void tenThousandOperationsOverAHundredKeysCheckInUnderTwoSeconds() {
    List<Operation> history = registerHistory(new SplittableRandom(7), 10_000, 100, 4);
    long start = System.nanoTime();
    Verdict verdict = checker.check(history, REGISTER);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    System.out.println("checker: 10,000 ops over 100 keys: " + verdict.kind() + " in " + millis + " ms, "
        + verdict.steps() + " steps");
    assertTrue(verdict.linearizable(), verdict.toString());
    assertTrue(millis < 2_000, millis + " ms");
  }

  @Test
  void thirtyFullyConcurrentOperationsOnOneKeyAnswerWithinTheBudget() {
    List<Operation> history = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      history.add(new Operation(i, "x", i % 2 == 0 ? new Write(i) : new Read(), i % 2 == 0 ? "ok" : 999,
          i, 100 + i, "c" + i)); // reads of a value never written: illegal, but hard to prove
    }
    LinearizabilityChecker small = new LinearizabilityChecker(200_000);
    long start = System.nanoTime();
    Verdict verdict = small.check(history, REGISTER);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    System.out.println("checker: 30 concurrent ops on one key: " + verdict.kind() + " in " + millis + " ms");
    assertNotNull(verdict.kind());
    assertTrue(millis < 10_000, millis + " ms");
  }

  /**
   * A linearizable register history: each client does operations whose effect happens at a random
   * point inside its own window, and windows of different clients overlap.
   */
  static List<Operation> registerHistory(SplittableRandom random, int count, int keys, int clients) {
    List<Operation> ops = new ArrayList<>(count);
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
      Object input = random.nextBoolean() ? new Write(random.nextInt(5)) : new Read();
      Object output;
      if (input instanceof Write w) {
        values[key] = w.value();
        output = "ok";
      } else {
        output = values[key];
      }
      ops.add(new Operation(i, key, input, output, invoked * 10 + client, responded * 10 + client, "c" + client));
    }
    return ops;
  }
}
