package dev.statewright.etcd;

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
 * and checked key by key with the harness's {@link LinearizabilityChecker}. This is the only class
 * of the consistent-reads test that knows the checker's API: porting the test to the typed API
 * ({@code SequentialSpec<S, I, O>} with outcomes ok, failed, unknown) means rewriting this class
 * alone — {@code ok(value)} for answered calls, {@code failed()} for failed reads,
 * {@code unknown()} for writes whose outcome is unknown. Thread-safe.
 */
final class RegisterHistory {
  /** A key that was never written, or was read as absent: value 0. */
  static final long ABSENT = 0;

  private record Write(long value) { }

  private record Read() { }

  /** The output of a read that failed: it says nothing about the register. */
  private enum Failed { READ }

  private final History history = new History();

  /** A call awaiting its outcome. */
  static final class Call {
    private final History.Call call;

    private Call(History.Call call) {
      this.call = call;
    }

    /** The write took effect, or the read returned {@code value} ({@link #ABSENT}: no key). */
    void ok(long value) {
      call.respond(value);
    }

    /** A read that failed (timed out): it constrains nothing. */
    void failed() {
      call.respond(Failed.READ);
    }

    /** A write whose outcome is unknown: left pending, it may or may not have taken effect. */
    void unknown() { }
  }

  /** Verdicts over every key. */
  record Counts(int keys, int linearizable, int illegal, int undecided, List<String> failures) { }

  /** {@code client} invokes a write of {@code value} (greater than 0) to {@code key}. */
  Call write(String client, String key, long value) {
    return new Call(history.invoke(client, key, new Write(value)));
  }

  /** {@code client} invokes a read of {@code key}. */
  Call read(String client, String key) {
    return new Call(history.invoke(client, key, new Read()));
  }

  /** Checks every key's history separately, with {@code budget} search steps per key. */
  Counts check(long budget) {
    Map<Object, List<Operation>> byKey = new LinkedHashMap<>();
    for (Operation op : history.operations()) {
      byKey.computeIfAbsent(op.partition(), k -> new ArrayList<>()).add(op);
    }
    LinearizabilityChecker checker = new LinearizabilityChecker(budget);
    int linearizable = 0;
    int illegal = 0;
    int undecided = 0;
    List<String> failures = new ArrayList<>();
    for (List<Operation> ops : byKey.values()) {
      Verdict verdict = checker.check(ops, REGISTER);
      switch (verdict.kind()) {
        case LINEARIZABLE -> linearizable++;
        case ILLEGAL -> {
          illegal++;
          failures.add(tail(verdict));
        }
        case UNKNOWN -> undecided++;
        default -> throw new AssertionError(verdict.kind());
      }
    }
    return new Counts(byKey.size(), linearizable, illegal, undecided, failures);
  }

  /** The end of an illegal verdict: the last few placed operations and the unplaceable one. */
  private static String tail(Verdict verdict) {
    List<Operation> prefix = verdict.longestPrefix();
    List<Operation> last = prefix.subList(Math.max(0, prefix.size() - 5), prefix.size());
    return "key " + verdict.partition() + ": ... " + last + " cannot place " + verdict.unplaceable();
  }

  /** A register holding the last value written, {@link #ABSENT} at first. */
  private static final SequentialSpec<Long> REGISTER = new SequentialSpec<>() {
    @Override
    public Long initial() {
      return ABSENT;
    }

    @Override
    public Optional<Long> apply(Long state, Object input, Object output) {
      if (input instanceof Write write) {
        return Optional.of(write.value());
      }
      if (output == null || output == Failed.READ) {
        return Optional.of(state);
      }
      return state.equals(output) ? Optional.of(state) : Optional.empty();
    }
  };
}
