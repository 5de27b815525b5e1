package dev.statewright.harness.linearizability;

import static dev.statewright.harness.linearizability.Specs.REGISTER;
import static dev.statewright.harness.linearizability.Specs.op;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.linearizability.Specs.Read;
import dev.statewright.harness.linearizability.Specs.Reg;
import dev.statewright.harness.linearizability.Specs.Write;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, finding 4: outcomes are explicit — {@code ok(value)} (null is a value), {@code failed}
 * (did not take effect), {@code unknown} (may take effect after its invocation, or never); equal
 * tickets are concurrent; a response before its invocation is refused. The old checker took a
 * completed {@code read -> null} for a pending one, ordered equal tickets by list position, and
 * accepted a response before its invocation.
 */
class TypedApiTest {
  private final LinearizabilityChecker checker = new LinearizabilityChecker().withoutTimelines();

  @Test
  void aCompletedReadThatReturnedNullIsAValueNotAPendingRead() {
    History<Reg, Integer> history = new History<>();
    history.invoke("a", "x", new Write(1)).ok(1);
    history.invoke("b", "x", new Read()).ok(null);
    Verdict<Reg, Integer> verdict = checker.check(history.operations(), REGISTER);
    assertEquals(Verdict.Kind.ILLEGAL, verdict.kind(), verdict.toString());
  }

  @Test
  void aFailedWriteNeverTookEffectAndAnUnknownOneMayHave() {
    History<Reg, Integer> failed = new History<>();
    failed.invoke("a", "x", new Write(1)).failed();
    failed.invoke("b", "x", new Read()).ok(1);
    assertEquals(Verdict.Kind.ILLEGAL, checker.check(failed.operations(), REGISTER).kind());

    History<Reg, Integer> unknown = new History<>();
    unknown.invoke("a", "x", new Write(1)).unknown();
    unknown.invoke("b", "x", new Read()).ok(1);
    unknown.invoke("b", "x", new Read()).ok(1);
    assertTrue(checker.check(unknown.operations(), REGISTER).linearizable());
  }

  @Test
  void anUnknownWriteMayTakeEffectAfterItsCallerGaveUpButNeverBeforeItsInvocation() {
    History<Reg, Integer> late = new History<>();
    History<Reg, Integer>.Call write = late.invoke("a", "x", new Write(1));
    write.unknown();
    late.invoke("b", "x", new Read()).ok(0);
    late.invoke("b", "x", new Read()).ok(1);
    assertTrue(checker.check(late.operations(), REGISTER).linearizable(), "it took effect late");

    History<Reg, Integer> early = new History<>();
    early.invoke("b", "x", new Read()).ok(1);
    early.invoke("a", "x", new Write(1)).unknown();
    assertEquals(Verdict.Kind.ILLEGAL, checker.check(early.operations(), REGISTER).kind());
  }

  @Test
  void operationsWithEqualTicketsAreConcurrent() {
    List<Operation<Reg, Integer>> history = List.of(op(0, new Write(1), 1, 1, 3), op(1, new Read(), 0, 3, 4));
    assertTrue(checker.check(history, REGISTER).linearizable(),
        "the read invoked at the write's response ticket may precede it");
  }

  @Test
  void aResponseBeforeItsInvocationIsRefusedWithAClearError() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> op(0, new Read(), 0, 5, 4));
    assertEquals("operation 0 (c0: Read[]) responded at ticket 4, before its invocation at ticket 5",
        error.getMessage());
  }

  @Test
  void aCallIsAnsweredOnceAndAnUnansweredOneIsUnknown() {
    History<Reg, Integer> history = new History<>();
    History<Reg, Integer>.Call call = history.invoke("a", "x", new Write(1));
    assertEquals(Result.unknown(), history.operations().get(0).result());
    call.ok(1);
    assertThrows(IllegalStateException.class, call::failed);
    assertEquals(Result.ok(1), history.operations().get(0).result());
  }

  @Test
  void onlyAnOkResultHasAValue() {
    assertEquals(null, Result.ok(null).value());
    assertThrows(NoSuchElementException.class, () -> Result.failed().value());
    assertThrows(NoSuchElementException.class, () -> Result.unknown().value());
    assertThrows(NullPointerException.class,
        () -> new Operation<Reg, Integer>(0, "x", new Read(), null, 1, 2, "c"));
  }
}
