package dev.statewright.benchmarks;

import dev.statewright.benchmarks.report.Report;
import java.nio.file.Files;
import java.nio.file.Path;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the suites at 1 and 2 threads with {@code -prof gc}, keeps the JMH JSON under
 * {@code benchmarks/results/}, and regenerates {@code benchmarks/REPORT.md} from it.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.statewright.benchmarks.Bench quick   # ~3 minutes
 * java -cp benchmarks/target/benchmarks.jar dev.statewright.benchmarks.Bench full    # ~25 minutes
 * </pre>
 */
public final class Bench {
  static final String SUITES = "dev\\.statewright\\.benchmarks\\.(Transition|Lease|ReadPath)Benchmark\\..*";

  private Bench() { }

  /** {@code quick} or {@code full}, then optionally the output folder (default {@code benchmarks}). */
  public static void main(String[] args) throws Exception {
    boolean full = args.length > 0 && args[0].equals("full");
    Path out = Path.of(args.length > 1 ? args[1] : "benchmarks");
    Path results = Files.createDirectories(out.resolve("results"));
    for (int threads = 1; threads <= 2; threads++) {
      new Runner(options(full, threads)
          .result(results.resolve("threads-" + threads + ".json").toString())
          .build()).run();
    }
    Report.generate(results, out);
    System.out.println("report: " + out.resolve("REPORT.md"));
  }

  static ChainedOptionsBuilder options(boolean full, int threads) {
    return new OptionsBuilder()
        .include(SUITES)
        .threads(threads)
        .forks(full ? 3 : 1)
        .warmupIterations(full ? 5 : 2)
        .warmupTime(TimeValue.seconds(1))
        .measurementIterations(full ? 10 : 3)
        .measurementTime(TimeValue.seconds(1))
        .addProfiler(GCProfiler.class)
        .resultFormat(ResultFormatType.JSON);
  }
}
