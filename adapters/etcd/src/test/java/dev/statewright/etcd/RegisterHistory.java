package dev.statewright.etcd;

import dev.statewright.harness.linearizability.Budget;
import dev.statewright.harness.linearizability.History;
import dev.statewright.harness.linearizability.LinearizabilityChecker;
import dev.statewright.harness.linearizability.Operation;
import dev.statewright.harness.linearizability.SequentialSpec;
import dev.statewright.harness.linearizability.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A history of per-key registers (writes of numbered values, reads), recorded with global tickets
 * and checked key by key with the harness's {@link LinearizabilityChecker}.
 *
 * <p>Two kinds of read. A {@linkplain #read linearizable read} ({@code acquireConsistent}) is
 * checked together with every write and every other linearizable read of its key. A
 * {@linkplain #readAsOf read as of a version} ({@code acquireAsOf(R)}, R the last write's revision
 * when it began) promises less: it reflects every write that completed before it began, but not a
 * write still in flight that another replica may already show, so two such reads on different
 * replicas may see that write in either order. Each is checked alone with the writes of its key:
 * no older than a completed write, nothing not yet written.
 *
 * <p>This is the only class of the consistent-reads test that knows the checker's API: answered
 * calls are {@code ok(value)}, failed reads {@code failed()}, writes whose outcome is unknown
 * {@code unknown()} (they may take effect any time after their invocation, or never).
 * Thread-safe.
 */
final class RegisterHistory {
  /** A key that was never written, or was read as absent: value 0. */
  static final long ABSENT = 0;

  /** What a call asks of a register. */
  private sealed interface Input permits Write, Read { }

  private record Write(long value) implements Input { }

  /** {@code alone}: checked with the writes only, not with the other reads. */
  private record Read(boolean alone) implements Input { }

  private final History<Input, Long> history = new History<>();

  /** A call awaiting its outcome. */
  static final class Call {
    private final History<Input, Long>.Call call;

    private Call(History<Input, Long>.Call call) {
      this.call = call;
    }

    /** The write took effect, or the read returned {@code value} ({@link #ABSENT}: no key). */
    void ok(long value) {
      call.ok(value);
    }

    /** A read that failed (timed out): it did not take effect, so it constrains nothing. */
    void failed() {
      call.failed();
    }

    /** A write whose outcome is unknown: it may or may not have taken effect. */
    void unknown() {
      call.unknown();
    }
  }

  /**
   * Verdicts over every key: a key is illegal if its linearizable reads or one of its reads as of
   * a version cannot be placed, undecided if not illegal and some check ran out of budget.
   */
  record Counts(int keys, int linearizable, int illegal, int undecided, int illegalAsOfReads,
      List<String> failures) { }

  /** {@code client} invokes a write of {@code value} (greater than 0) to {@code key}. */
  Call write(String client, String key, long value) {
    return new Call(history.invoke(client, key, new Write(value)));
  }

  /** {@code client} invokes a linearizable read of {@code key}. */
  Call read(String client, String key) {
    return new Call(history.invoke(client, key, new Read(false)));
  }

  /** {@code client} invokes a read of {@code key} as of the last completed write's version. */
  Call readAsOf(String client, String key) {
    return new Call(history.invoke(client, key, new Read(true)));
  }

  /** Checks every key's history separately, with {@code budget} search steps per check. */
  Counts check(long budget) {
    Map<Object, List<Operation<Input, Long>>> byKey = new LinkedHashMap<>();
    for (Operation<Input, Long> op : history.operations()) {
      byKey.computeIfAbsent(op.partition(), k -> new ArrayList<>()).add(op);
    }
    LinearizabilityChecker checker =
        new LinearizabilityChecker(Budget.defaults().withSteps(budget)).withoutTimelines();
    int[] kinds = new int[Verdict.Kind.values().length];
    int illegalAsOf = 0;
    List<String> failures = new ArrayList<>();
    for (List<Operation<Input, Long>> ops : byKey.values()) {
      List<Operation<Input, Long>> together = new ArrayList<>();
      List<Operation<Input, Long>> alone = new ArrayList<>();
      for (Operation<Input, Long> op : ops) {
        (op.input() instanceof Read read && read.alone() ? alone : together).add(op);
      }
      Verdict.Kind worst = record(checker.check(together, REGISTER), failures);
      for (Operation<Input, Long> read : alone) {
        List<Operation<Input, Long>> withWrites = new ArrayList<>(writes(together));
        withWrites.add(read);
        Verdict.Kind kind = record(checker.check(withWrites, REGISTER), failures);
        illegalAsOf += kind == Verdict.Kind.ILLEGAL ? 1 : 0;
        worst = worse(worst, kind);
      }
      kinds[worst.ordinal()]++;
    }
    return new Counts(byKey.size(), kinds[Verdict.Kind.LINEARIZABLE.ordinal()],
        kinds[Verdict.Kind.ILLEGAL.ordinal()], kinds[Verdict.Kind.UNKNOWN.ordinal()], illegalAsOf,
        failures);
  }

  private static List<Operation<Input, Long>> writes(List<Operation<Input, Long>> ops) {
    return ops.stream().filter(op -> op.input() instanceof Write).toList();
  }

  private static Verdict.Kind record(Verdict<Input, Long> verdict, List<String> failures) {
    if (verdict.kind() == Verdict.Kind.ILLEGAL && failures.size() < 5) {
      failures.add(tail(verdict));
    }
    return verdict.kind();
  }

  private static Verdict.Kind worse(Verdict.Kind a, Verdict.Kind b) {
    return a == Verdict.Kind.ILLEGAL || b == Verdict.Kind.ILLEGAL ? Verdict.Kind.ILLEGAL
        : a == Verdict.Kind.UNKNOWN || b == Verdict.Kind.UNKNOWN ? Verdict.Kind.UNKNOWN
        : Verdict.Kind.LINEARIZABLE;
  }

  /** The end of an illegal verdict: the last few placed operations and the unplaceable one. */
  private static String tail(Verdict<Input, Long> verdict) {
    List<Operation<Input, Long>> prefix = verdict.longestPrefix();
    List<Operation<Input, Long>> last = prefix.subList(Math.max(0, prefix.size() - 5), prefix.size());
    return "key " + verdict.partition() + ": ... " + last + " cannot place " + verdict.unplaceable();
  }

  /** A register holding the last value written, {@link #ABSENT} at first. */
  private static final SequentialSpec<Long, Input, Long> REGISTER = new SequentialSpec<>() {
    @Override
    public Long initial() {
      return ABSENT;
    }

    @Override
    public Optional<Long> step(Long state, Input input, Long output) {
      if (input instanceof Write write) {
        return Optional.of(write.value());
      }
      return state.equals(output) ? Optional.of(state) : Optional.empty();
    }

    @Override
    public Optional<Long> stepUnknown(Long state, Input input) {
      return Optional.of(input instanceof Write write ? write.value() : state);
    }
  };
}
