package dev.statewright.harness.property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * {@code @PropertyTest} as a user meets it: example test classes run through JUnit, and what
 * JUnit reports and the test prints are checked.
 */
class PropertyTestExtensionTest {

  static class Passing {
    @PropertyTest(runs = 50)
    void counterIsLinearizable(Counters.CounterModel model) { }
  }

  static class Failing {
    @PropertyTest(runs = 200, simulatedOnly = true)
    void brokenCounterFails(Counters.BrokenCounterModel model) { }
  }

  static class Blocking {
    @PropertyTest(runs = 5, simulatedOnly = true)
    void acquireInACommand(Counters.BlockingModel model) { }
  }

  @Test
  void aPassingPropertyPrintsItsMasterSeedAndPasses() {
    String printed = printedBy(() -> run(Passing.class).assertStatistics(s -> s.succeeded(1)));
    assertTrue(printed.matches("(?s).*property 'counter', 50 runs from master seed -?\\d+"
        + " \\(repeat with -Dstatewright.seed=-?\\d+\\).*"), printed);
    assertTrue(printed.contains("counter: 50 runs"), printed);
  }

  @Test
  void aFailingPropertyPrintsTheRunSeedAndReportsTheShrunkProgram() {
    String[] message = new String[1];
    String printed = printedBy(() -> message[0] = failureMessage(run(Failing.class)));
    assertTrue(message[0].contains("property 'broken counter' failed"), message[0]);
    assertTrue(message[0].contains("shrunk from "), message[0]);
    assertTrue(message[0].contains("to 4 commands"), "three increments and a get: " + message[0]);
    long runSeed = runSeed(printed);
    assertTrue(message[0].contains("-Dstatewright.replay=" + runSeed), message[0]);

    String replayed = printedBy(() -> withProperty("statewright.replay", runSeed,
        () -> message[0] = failureMessage(run(Failing.class))));
    assertTrue(replayed.contains("replays run seed " + runSeed), replayed);
    assertTrue(replayed.contains("broken counter: 1 runs"), replayed);
    assertEquals(runSeed, runSeed(replayed), "the replay fails with the same run seed");
  }

  /**
   * From this master seed the first failing run is parallel: a get in the prefix, three increments
   * beside two gets. Shrinking stopped at those 6 commands, because dropping any of them changed
   * the schedule that made a get see the third increment; run one after the other, they fail on
   * every schedule and shrink to the 4 the failure needs.
   */
  @Test
  void aParallelFailureThatNeedsNoConcurrencyShrinksToItsSequentialCore() {
    String[] message = new String[1];
    printedBy(() -> withProperty("statewright.seed", -3318939220429021113L,
        () -> message[0] = failureMessage(run(Failing.class))));
    assertTrue(message[0].contains("shrunk from 9 "), "the parallel run of 9: " + message[0]);
    assertTrue(message[0].contains("to 4 commands"), message[0]);
    assertTrue(message[0].contains("prefix: [increment, increment, increment, get]\n"),
        message[0]);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS) // it used to deadlock; now it must fail at once
  void aBlockingAcquireInACommandFailsNamingTheCall() {
    String[] message = new String[1];
    printedBy(() -> message[0] = failureMessage(run(Blocking.class)));
    assertTrue(message[0].contains("blocking call ClientCache.acquire()"), message[0]);
    assertTrue(message[0].contains("acquireAsync"), message[0]);
  }

  private static Events run(Class<?> testClass) {
    return EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute()
        .testEvents();
  }

  private static String failureMessage(Events events) {
    events.assertStatistics(s -> s.failed(1));
    Throwable thrown = events.failed().stream().findFirst().orElseThrow()
        .getPayload(org.junit.platform.engine.TestExecutionResult.class).orElseThrow()
        .getThrowable().orElseThrow();
    assertTrue(thrown instanceof PropertyFailedError, "fails as an assertion: " + thrown);
    return thrown.getMessage();
  }

  private static long runSeed(String printed) {
    Matcher seed = Pattern.compile("run seed (-?\\d+) failed; replay it with"
        + " -Dstatewright.replay=(-?\\d+)").matcher(printed);
    assertTrue(seed.find(), printed);
    assertEquals(seed.group(1), seed.group(2));
    return Long.parseLong(seed.group(1));
  }

  private static String printedBy(Runnable run) {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      run.run();
    } finally {
      System.setOut(original);
    }
    String printed = captured.toString(StandardCharsets.UTF_8);
    original.print(printed);
    return printed;
  }

  private static void withProperty(String name, long value, Runnable run) {
    System.setProperty(name, Long.toString(value));
    try {
      run.run();
    } finally {
      System.clearProperty(name);
    }
  }
}
