package dev.statewright.harness.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatewrightTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) throws Exception {
    return Statewright.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private List<String> lines() {
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void exploreEndsWithTheLineScriptsRead() throws Exception {
    assertEquals(0, run("explore", "--runs", "100", "--seed", "7"));
    String last = lines().get(lines().size() - 1);
    assertTrue(last.matches("explore: \\d+ runs, 0 violations, canaries (\\d+)/\\1 caught"), last);
  }

  @Test
  void replayPrintsTheProgramTheHistoryAndEveryStep() throws Exception {
    assertEquals(0, run("replay", "--seed", "12345"));
    String text = out.toString(StandardCharsets.UTF_8);
    assertTrue(text.startsWith("replay of 'client cache' run seed 12345"), text);
    assertTrue(text.contains("program:") && text.contains("history:") && text.contains("interleaving"), text);
  }

  @Test
  void badInputSaysWhatWasWrong() throws Exception {
    assertEquals(2, run("fly"));
    assertEquals(2, run("replay"));
    assertEquals(2, run("explore", "--runs", "many"));
    String errors = err.toString(StandardCharsets.UTF_8);
    assertTrue(errors.contains("unknown command 'fly'"), errors);
    assertTrue(errors.contains("--seed is required"), errors);
    assertTrue(errors.contains("--runs takes a whole number, got 'many'"), errors);
  }
}
