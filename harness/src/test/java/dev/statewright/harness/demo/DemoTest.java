package dev.statewright.harness.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The README's main job runs in every build: every check it makes must pass. */
class DemoTest {
  @Test
  void theDemonstrationPassesEveryCheck() throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int failed = Demo.run(new PrintStream(captured, true, StandardCharsets.UTF_8), false);
    String output = captured.toString(StandardCharsets.UTF_8);
    System.out.println(output);

    assertEquals(0, failed, output);
    assertTrue(output.matches("(?s).*\\ndemo: \\d+ checks passed, 0 failed\\n.*"), output);
    for (String invariant : new String[] {"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10",
        "C11", "C12", "C13", "C14", "C15", "S1", "S2", "S3", "S4"}) {
      assertTrue(output.contains("[ ok ] " + invariant), invariant + " was checked");
    }
  }
}
