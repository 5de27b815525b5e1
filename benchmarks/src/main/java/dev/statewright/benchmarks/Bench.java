package dev.statewright.benchmarks;

import dev.statewright.benchmarks.report.Report;
import java.nio.file.Files;
import java.nio.file.Path;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the suites at 1 and 2 threads with {@code -prof gc}, keeps the JMH JSON under
 * {@code benchmarks/results/}, and regenerates {@code benchmarks/REPORT.md} from it.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.statewright.benchmarks.Bench quick   # 1 fork each
 * java -cp benchmarks/target/benchmarks.jar dev.statewright.benchmarks.Bench full    # 3 forks, 36 minutes here
 * </pre>
 */
public final class Bench {
  static final String SUITES =
      "dev\\.statewright\\.benchmarks\\.(Transition|Lease|ReadPath|ReadsDuringRebuilds|Coalescing"
          + "|Freshness|FreshnessPolicies|Staging|Scale|Linearizability)Benchmark\\..*";

  private Bench() { }

  /** {@code quick} or {@code full}, then optionally the output folder (default {@code benchmarks}). */
  public static void main(String[] args) throws Exception {
    boolean full = args.length > 0 && args[0].equals("full");
    Path out = Path.of(args.length > 1 ? args[1] : "benchmarks");
    Path results = Files.createDirectories(out.resolve("results"));
    for (int threads = 1; threads <= 2; threads++) {
      ChainedOptionsBuilder options = options(full, threads);
      if (threads == 2) { // only the read path and leases are asked about at 2 threads
        options.exclude("(Transition|ReadsDuringRebuilds|Coalescing|Freshness|FreshnessPolicies"
            + "|Staging|Scale|Linearizability)Benchmark");
      }
      new Runner(options.result(results.resolve("threads-" + threads + ".json").toString()).build()).run();
    }
    Report.generate(results, out);
    System.out.println("report: " + out.resolve("REPORT.md"));
  }

  /** Forks (3 in full runs, else 1), threads and the GC profiler; iteration counts are the classes'. */
  static ChainedOptionsBuilder options(boolean full, int threads) {
    ChainedOptionsBuilder options = new OptionsBuilder()
        .include(SUITES)
        .threads(threads)
        .forks(full ? 3 : 1)
        .addProfiler(GCProfiler.class)
        .resultFormat(ResultFormatType.JSON);
    return full ? options.param("seconds", "30") : options;
  }
}
