package dev.statewright.benchmarks;

import dev.statewright.cache.ClientCache;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 8: does it hold at scale? 100,000 keys, all CURRENT, then 10,000 updates per second to
 * random keys for {@code seconds} (5 in the quick profile, 30 in the full one). Reported per
 * operation: builds, updates, the staleness p99 (upsert until its version or a newer one is
 * served), and the heap each entry takes beyond its client and spec: retained heap after a full GC
 * with the 100,000 entries, minus before, per entry, minus the spec (a {@code Long}, 16 bytes;
 * every client is one shared object). The key, a {@code String} such as {@code "repository-4711"}
 * (56 bytes), is counted in. Target: at most 256 bytes.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ScaleBenchmark -p seconds=30}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class ScaleBenchmark {
  static final int KEYS = 100_000;
  static final int UPDATES_PER_SECOND = 10_000;
  static final long SPEC_BYTES = 16;

  @Param({"5"})
  public int seconds;

  private final Object client = new Object();
  private final AtomicLong builds = new AtomicLong();
  private final String[] keys = new String[KEYS];
  private final long[] versions = new long[KEYS];
  private ClientCache<String, Long, Object> cache;
  private double heapPerEntry;

  /** What the run saw. */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class Scale {
    public double builds;
    public double updates;
    public double stalenessP99Micros;
    public double heapBytesPerEntry;
  }

  @Setup(Level.Trial)
  public void fill() {
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "repository-" + i;
    }
    long before = retainedHeap();
    cache = ClientCache.<String, Long, Object>builder((key, spec) -> {
          builds.incrementAndGet();
          return client;
        })
        .build();
    CompletableFuture<?>[] built = new CompletableFuture<?>[KEYS];
    for (int i = 0; i < KEYS; i++) {
      versions[i] = 1;
      built[i] = cache.upsert(keys[i], 1L, 1);
    }
    CompletableFuture.allOf(built).join();
    built = null;
    heapPerEntry = (double) (retainedHeap() - before) / KEYS - SPEC_BYTES;
  }

  @TearDown(Level.Trial)
  public void close() {
    cache.close();
  }

  static long retainedHeap() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return memory.getHeapMemoryUsage().getUsed();
  }

  @Benchmark
  public long updates(Scale result) throws Exception {
    long buildsBefore = builds.get();
    int total = seconds * UPDATES_PER_SECOND;
    SplittableRandom random = new SplittableRandom(42);
    PacedUpdates updates = PacedUpdates.run(total,
        TimeUnit.SECONDS.toNanos(1) / UPDATES_PER_SECOND, 50_000, i -> {
          int key = random.nextInt(KEYS);
          long version = ++versions[key];
          return cache.upsert(keys[key], version, version);
        });
    result.builds += builds.get() - buildsBefore;
    result.updates += total;
    result.stalenessP99Micros += updates.stalenessMicros(99);
    result.heapBytesPerEntry += heapPerEntry;
    return builds.get();
  }
}
