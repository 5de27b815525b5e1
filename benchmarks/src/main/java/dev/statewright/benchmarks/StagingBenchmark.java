package dev.statewright.benchmarks;

import dev.statewright.lease.Lease;
import dev.statewright.staging.Staged;
import dev.statewright.staging.StagingArea;
import dev.statewright.staging.StagingScope;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 7: what does staging cost a run of 10 targets? A module of 1,000 small files staged
 * once (copied and digested in one pass, renamed into place) and leased by 10 targets, then
 * released; against copying it once per target (the field tool's old behaviour) and against one
 * raw copy, all in this class and run. Target: the staged run at most 1.1x one raw copy.
 *
 * <p>Every operation does the same kind of work inside the timed part: it makes its own copy of
 * the module and deletes it again (the staged run: its scope, the copy, ten leases, and the
 * scope's close, which deletes both). The module and the staging area are made once per trial,
 * outside, in memory ({@code /dev/shm}) where there is a tmpfs: on ext4 here, half of a copy's
 * time went to skipping inodes freed in the last minutes, by this benchmark and by whichever ran
 * before it, so the benchmark after {@code copyPerTarget} (10,000 deletions per operation) paid
 * for them. {@code -Dstatewright.bench.dir=/tmp} measures on disk. The two benchmarks the target
 * compares take 2 warmup and 8 measured iterations of 1 s (some 50 operations each in memory,
 * 2 to 5 on disk); {@code copyPerTarget}, ten times as long and reported without a target, takes
 * 1 and 2. With 3 forks the class runs in about a minute and a half.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar StagingBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(1)
public class StagingBenchmark {
  private static final int FILES = 1_000;
  private static final int TARGETS = 10;

  private Path tmp;
  private Path bundle;
  private Path module;
  private StagingArea area;
  private int copies;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    tmp = Files.createTempDirectory(workDirectory(), "statewright-staging-bench-");
    module = Files.createDirectories(tmp.resolve("bundle/modules/redis"));
    for (int i = 0; i < FILES; i++) {
      Path file = module.resolve("part-" + (i % 20)).resolve("file-" + i + ".yaml");
      Files.createDirectories(file.getParent());
      Files.writeString(file, "kind: ConfigMap\nindex: " + i + "\n");
    }
    bundle = Files.writeString(tmp.resolve("bundle/bundle.cue"), "bundle: {}\n");
    area = StagingArea.open(tmp.resolve("staging"));
  }

  /**
   * Where the module and every copy live: {@code -Dstatewright.bench.dir} if given, else
   * {@code /dev/shm} (tmpfs) where it is a writable directory, else the default temporary folder.
   * On a disk file system the cost of creating a file depends on how many files were deleted
   * nearby in the last minutes (ext4 skips recently freed inodes one by one), so each benchmark
   * would pay for the deletions of the one before it; in memory it does not.
   */
  private static Path workDirectory() {
    String given = System.getProperty("statewright.bench.dir");
    if (given != null) {
      return Path.of(given);
    }
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) && Files.isWritable(shm)
        ? shm : Path.of(System.getProperty("java.io.tmpdir"));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    area.close();
    delete(tmp);
  }

  @Benchmark
  public int stagedOnceForTenTargets() {
    int seen = 0;
    try (StagingScope run = area.newScope("bench")) {
      Staged staged = run.stageDirectory(URI.create("file://./modules/redis"), bundle);
      for (int t = 0; t < TARGETS; t++) {
        try (Lease<Path> lease = staged.acquire("target-" + t)) {
          seen += lease.get().getNameCount();
        }
      }
    }
    return seen;
  }

  @Benchmark
  @Warmup(iterations = 1, time = 1)
  @Measurement(iterations = 2, time = 1)
  public int copyPerTarget() throws IOException {
    int seen = 0;
    for (int t = 0; t < TARGETS; t++) {
      Path copy = copy();
      seen += copy.getNameCount();
      delete(copy);
    }
    return seen;
  }

  @Benchmark
  public int oneRawCopy() throws IOException {
    Path copy = copy();
    int seen = copy.getNameCount();
    delete(copy);
    return seen;
  }

  private Path copy() throws IOException {
    Path target = tmp.resolve("copy-" + copies++);
    try (Stream<Path> all = Files.walk(module)) {
      for (Path from : all.sorted().toList()) {
        Path to = target.resolve(module.relativize(from).toString());
        if (Files.isDirectory(from)) {
          Files.createDirectories(to);
        } else {
          Files.copy(from, to);
        }
      }
    }
    return target;
  }

  private static void delete(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
