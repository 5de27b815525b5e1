package dev.statewright.harness.property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.linearizability.LinearizabilityChecker;
import dev.statewright.harness.linearizability.Verdict;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * A property failure that is a linearizability violation writes the timeline of the shrunk run
 * and its report links it. The system: a counter whose increment reads, yields, then writes, so
 * concurrent increments lose updates; one client alone never notices.
 */
class PropertyFailureTimelineTest {
  @Test
  void aNotLinearizableFailureReportLinksTheTimelineOfTheShrunkRun() throws IOException {
    PropertyRunner.Summary summary = PropertyRunner.explore(new LostUpdateCounter(),
        Settings.defaults().seed(11).runs(400).simulatedOnly());
    Failure<?, ?> failure = summary.failure().orElseThrow(() -> new AssertionError("the lost update was caught"));
    Verdict<?, ?> verdict = failure.outcome().verdict();
    String report = failure.report();
    assertEquals(Verdict.Kind.ILLEGAL, verdict.kind(), report);
    Path file = verdict.timeline().orElseThrow(() -> new AssertionError("no timeline:\n" + report));
    assertTrue(report.contains("  timeline: " + file.toAbsolutePath().toUri() + "\n"), report);
    assertTrue(file.startsWith(LinearizabilityChecker.DEFAULT_TIMELINES), file.toString());
    assertTrue(file.getFileName().toString().endsWith("-" + failure.runSeed() + ".html"), file.toString());
    assertTrue(Files.readString(file).contains("not linearizable"));
  }

  /** The counter under test. */
  static final class Counter {
    final Scheduler scheduler;
    int value;

    Counter(Scheduler scheduler) {
      this.scheduler = scheduler;
    }
  }

  /** The model: an int; increments and reads. */
  static final class LostUpdateCounter implements Model<Integer, Counter> {
    @Override
    public String name() {
      return "lost-update counter";
    }

    @Override
    public Integer initialState() {
      return 0;
    }

    @Override
    public Command<Integer, Counter> generate(Integer state, SplittableRandom random) {
      return random.nextBoolean() ? new Increment() : new Read();
    }

    @Override
    public Counter start(Scheduler scheduler) {
      return new Counter(scheduler);
    }

    @Override
    public List<String> finish(Counter system) {
      return List.of();
    }
  }

  /** Reads, yields to the scheduler, writes the value read plus one. */
  record Increment() implements Command<Integer, Counter> {
    @Override
    public Optional<Integer> apply(Integer state, Object result) {
      return "ok".equals(result) ? Optional.of(state + 1) : Optional.empty();
    }

    @Override
    public Optional<Integer> applyUnknown(Integer state) {
      return Optional.of(state + 1);
    }

    @Override
    public CompletionStage<Object> run(Counter system) {
      int read = system.value;
      CompletableFuture<Object> done = new CompletableFuture<>();
      system.scheduler.execute(() -> {
        system.value = read + 1;
        done.complete("ok");
      });
      return done;
    }

    @Override
    public String toString() {
      return "increment";
    }
  }

  /** Returns the value. */
  record Read() implements Command<Integer, Counter> {
    @Override
    public Optional<Integer> apply(Integer state, Object result) {
      return state.equals(result) ? Optional.of(state) : Optional.empty();
    }

    @Override
    public Optional<Integer> applyUnknown(Integer state) {
      return Optional.of(state);
    }

    @Override
    public CompletionStage<Object> run(Counter system) {
      return CompletableFuture.completedFuture(system.value);
    }

    @Override
    public String toString() {
      return "read";
    }
  }
}
