package dev.statewright.harness.linearizability;

import static dev.statewright.harness.linearizability.Specs.KV;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.statewright.harness.linearizability.Specs.Append;
import dev.statewright.harness.linearizability.Specs.Get;
import dev.statewright.harness.linearizability.Specs.Kv;
import dev.statewright.harness.linearizability.Specs.Put;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 12, finding 1: after a long sequential prefix, a mutated memo entry whose
 * {@code BitSet.hashCode} collided with a state never explored made the old checker answer ILLEGAL
 * for a linearizable history (wrongly at prefixes 125, 252, 253 and 381 of this history, rightly
 * at the others). One key, initially ""; {@code n} sequential {@code get -> ""}; then
 * {@code append("x")} and {@code put("a")} concurrent; then another {@code append("x")}, during
 * which {@code get -> "axx"}, a {@code put("a")} and {@code get -> "a"} complete. It linearizes as
 * prefix, put a, append x, append x, get axx, put a, get a.
 */
class LongSequentialPrefixRegressionTest {
  private final LinearizabilityChecker checker = new LinearizabilityChecker();

  @ParameterizedTest(name = "prefix of {0} gets")
  @ValueSource(ints = {0, 1, 63, 64, 124, 125, 126, 127, 128, 252, 253, 381, 500})
  void aLongSequentialPrefixThenConcurrencyIsLinearizable(int prefix) {
    Verdict<Kv, String> verdict = checker.check(history(prefix), KV);
    assertEquals(Verdict.Kind.LINEARIZABLE, verdict.kind(), verdict.toString());
  }

  @Test
  void canaryTheMutableMemoAnswersIllegalAtAPrefixOf125() {
    LinearizabilityChecker canary = LinearizabilityChecker.mutableMemoCanary(Budget.defaults());
    assertEquals(Verdict.Kind.LINEARIZABLE, canary.check(history(124), KV).kind());
    Verdict<Kv, String> wrong = canary.check(history(125), KV);
    assertEquals(Verdict.Kind.ILLEGAL, wrong.kind(), "the canary reproduces the wrong ILLEGAL");
    assertEquals(new Get(), wrong.unplaceable().input());
    assertEquals("axx", wrong.unplaceable().result().value());
  }

  static List<Operation<Kv, String>> history(int prefix) {
    List<Operation<Kv, String>> ops = new ArrayList<>();
    long t = 1;
    for (int i = 0; i < prefix; i++, t += 2) {
      ops.add(ok(ops.size(), new Get(), "", t, t + 1, "c0"));
    }
    ops.add(ok(ops.size(), new Append("x"), "", t, t + 11, "c1"));
    ops.add(ok(ops.size(), new Put("a"), "", t + 2, t + 7, "c2"));
    ops.add(ok(ops.size(), new Append("x"), "", t + 12, t + 23, "c1"));
    ops.add(ok(ops.size(), new Get(), "axx", t + 18, t + 19, "c3"));
    ops.add(ok(ops.size(), new Put("a"), "", t + 20, t + 21, "c2"));
    ops.add(ok(ops.size(), new Get(), "a", t + 14, t + 21, "c0"));
    return ops;
  }

  private static Operation<Kv, String> ok(int id, Kv input, String output, long from, long to, String client) {
    return new Operation<>(id, "k", input, Result.ok(output), from, to, client);
  }
}
