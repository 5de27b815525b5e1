package dev.statewright.harness.linearizability;

import static dev.statewright.harness.linearizability.Specs.REGISTER;
import static dev.statewright.harness.linearizability.Specs.op;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.linearizability.Specs.Read;
import dev.statewright.harness.linearizability.Specs.Reg;
import dev.statewright.harness.linearizability.Specs.Write;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every non-linearizable or undecided verdict comes with a self-contained HTML timeline — one
 * lane per client, operations as bars, the longest linearizable prefix marked and the operation
 * that cannot be placed highlighted — and its message links it.
 */
class TimelineTest {
  @Test
  void anIllegalVerdictWritesItsTimelineAndLinksIt(@TempDir Path folder) throws IOException {
    List<Operation<Reg, Integer>> history = List.of(op(0, new Write(1), 1, 1, 4), op(1, new Write(2), 2, 2, 3),
        op(2, new Read(), 2, 5, 6), op(3, new Read(), 7, 7, 8));
    Verdict<Reg, Integer> verdict = new LinearizabilityChecker().writingTimelinesTo(folder).check(history, REGISTER);

    assertEquals(Verdict.Kind.ILLEGAL, verdict.kind());
    Path file = verdict.timeline().orElseThrow();
    assertEquals(folder, file.getParent());
    assertTrue(verdict.toString().contains("timeline: " + file.toAbsolutePath().toUri()), verdict.toString());
    String page = Files.readString(file);
    assertTrue(page.startsWith("<!DOCTYPE html>") && page.contains("<svg") && !page.contains("<script"));
    for (String client : List.of("c0", "c1", "c2", "c3")) {
      assertTrue(page.contains(">" + client + "</text>"), "a lane for " + client);
    }
    assertEquals(4, count(page, "<rect "), "one bar per operation");
    assertEquals(verdict.longestPrefix().size(), count(page, "class=\"prefix"), "the prefix marked");
    assertEquals(1, count(page, "class=\"stuck"), "the operation that cannot be placed");
    assertTrue(page.contains("#1 "), "prefix bars are numbered in linearization order");
    assertTrue(page.contains("c2: Read[] -&gt; ok(2) [5..6]  ⇒ state 2"), "the prefix is listed with its states");
  }

  @Test
  void anUndecidedVerdictDrawsEveryUndecidedPartition(@TempDir Path folder) throws IOException {
    List<Operation<Reg, Integer>> history = new java.util.ArrayList<>(Specs.concurrentWritesAndImpossibleReads("a", 30, 0));
    history.addAll(Specs.concurrentWritesAndImpossibleReads("b", 30, 30));
    Verdict<Reg, Integer> verdict = new LinearizabilityChecker(Budget.defaults().withSteps(5_000))
        .writingTimelinesTo(folder).check(history, REGISTER);

    assertEquals(Verdict.Kind.UNKNOWN, verdict.kind());
    String page = Files.readString(verdict.timeline().orElseThrow());
    assertTrue(page.contains("partition a: undecided") && page.contains("partition b: undecided"));
    assertTrue(page.contains("step budget of 5000 reached"), "the reason is shown");
    assertEquals(2, count(page, "class=\"stuck"), "each undecided partition shows its first unplaced operation");
  }

  @Test
  void aLinearizableVerdictWritesNothing(@TempDir Path folder) throws IOException {
    Verdict<Reg, Integer> verdict = new LinearizabilityChecker().writingTimelinesTo(folder)
        .check(List.of(op(0, new Write(1), 1, 1, 2)), REGISTER);
    assertTrue(verdict.timeline().isEmpty());
    try (var files = Files.list(folder)) {
      assertEquals(0, files.count());
    }
  }

  private static int count(String text, String what) {
    Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }
}
