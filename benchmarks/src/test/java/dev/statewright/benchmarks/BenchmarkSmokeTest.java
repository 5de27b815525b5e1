package dev.statewright.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.benchmarks.report.Report;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Every benchmark runs once, in-process, for a moment, and the report renders from its JSON: a
 * smoke test that the suites and the report work, not a measurement.
 */
class BenchmarkSmokeTest {
  @Test
  void everyBenchmarkRunsOnceAndTheReportRendersFromTheResults(@TempDir Path out) throws Exception {
    Path results = Files.createDirectories(out.resolve("results"));
    Collection<RunResult> runs = new Runner(Bench.options(false, 1)
        .forks(0)                    // in-process: a smoke test, not a measurement
        .verbosity(VerboseMode.SILENT) // so JMH's non-forked warnings stay out of the build log
        .warmupIterations(0)
        .measurementIterations(1)
        .measurementTime(TimeValue.milliseconds(50))
        .param("intervalMicros", "100") // one sweep cell per policy, and a one-second scale run
        .param("buildMicros", "1000")
        .param("seconds", "1")
        .param("operations", "10") // the checker's smallest cell: 2 models x 2 kinds x 2 memos
        .param("clients", "2")
        .result(results.resolve("smoke.json").toString())
        .build()).run();

    assertEquals(50, runs.size(), "every benchmark method (and parameter) ran");
    Report.generate(results, out);
    String report = Files.readString(out.resolve("REPORT.md"));
    assertTrue(report.contains("## 1. Read path") && report.contains("## 5. Transitions"), report);
    String summary = Files.readString(out.resolve("results/summary.json"));
    assertTrue(summary.contains("\"read.snapshot_vs_chm.t1\""), summary);
    assertFalse(Files.readString(out.resolve("results/read-throughput.svg")).isBlank());
    assertTrue(report.contains("## 2. Reads during rebuilds") && report.contains("## 4. Freshness")
        && report.contains("## 8. Scale"), report);
    assertTrue(summary.contains("\"scale.heap_bytes_per_entry\""), summary);
    assertTrue(Files.readString(out.resolve("results/freshness.svg")).contains("<circle"));
    assertTrue(report.contains("## 10. Linearizability checker") && report.contains("| register | 10 | 2 | false |"), report);
    assertTrue(report.contains("## 9. Freshness against the policies users pick instead")
        && report.contains("| resync100ms |"), report);
    assertTrue(summary.contains("\"freshness_policies.cache_dominates_every_anchor\""), summary);
    int previous = -1;
    for (int question = 1; question <= 10; question++) { // the questions in order, 1 to 10
      int at = report.indexOf("\n## " + question + ". ");
      assertTrue(at > previous, "question " + question + " after question " + (question - 1));
      previous = at;
    }
    assertTrue(Files.readString(out.resolve("results/freshness-policies.svg")).contains("<circle"));
  }
}
