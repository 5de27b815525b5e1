package dev.statewright.benchmarks;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientFactory;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.ObjectName;
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
 * served), and the heap each entry takes beyond its key, spec and client: the bytes of live objects
 * (a class histogram, after a full GC) with the 100,000 entries, minus before, per entry. The keys
 * ({@code String}s such as {@code "repository-4711"}) and the specs (a distinct {@code Long} each)
 * are the caller's and are made before the first measurement; every client is one shared object;
 * so none of them is counted, and nothing is subtracted. Target: at most 256 bytes. Reported
 * beside it: the heap the collector reports used after full GCs, by the same difference, which
 * also holds what the collector keeps around the objects (G1's partly filled regions: it moved
 * with the region size and the collector while the histogram did not).
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
  private static final Pattern HISTOGRAM_ROW =
      Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+).*$");

  @Param({"5"})
  public int seconds;

  private final Object client = new Object();
  private final AtomicLong builds = new AtomicLong();
  private final String[] keys = keys();
  private final long[] versions = new long[KEYS];
  private ClientCache<String, Long, Object> cache;
  private double heapPerEntry;
  private double usedHeapPerEntry;

  /** What the run saw. */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class Scale {
    public double builds;
    public double updates;
    public double stalenessP99Micros;
    public double heapBytesPerEntry;
    public double usedHeapBytesPerEntry;
  }

  @Setup(Level.Trial)
  public void fill() {
    Long[] specs = specs();
    long liveBefore = liveHeap(histogram());
    long usedBefore = usedHeap();
    cache = filled(keys, specs, (key, spec) -> {
      builds.incrementAndGet();
      return client;
    });
    usedHeapPerEntry = (double) (usedHeap() - usedBefore) / KEYS;
    heapPerEntry = (double) (liveHeap(histogram()) - liveBefore) / KEYS;
    Arrays.fill(versions, 1);
  }

  /** The {@value #KEYS} keys, {@code "repository-0"} and on. */
  static String[] keys() {
    String[] keys = new String[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "repository-" + i;
    }
    return keys;
  }

  /** A distinct spec object per key, as a real configuration has (outside the Long cache). */
  static Long[] specs() {
    Long[] specs = new Long[KEYS];
    for (int i = 0; i < KEYS; i++) {
      specs[i] = Long.valueOf(1_000L + i);
    }
    return specs;
  }

  /** A new cache with every key CURRENT at version 1 of its spec. */
  static ClientCache<String, Long, Object> filled(String[] keys, Long[] specs,
      ClientFactory<String, Long, Object> factory) {
    ClientCache<String, Long, Object> cache =
        ClientCache.<String, Long, Object>builder(factory).build();
    CompletableFuture<?>[] built = new CompletableFuture<?>[keys.length];
    for (int i = 0; i < keys.length; i++) {
      built[i] = cache.upsert(keys[i], specs[i], 1);
    }
    CompletableFuture.allOf(built).join();
    return cache;
  }

  @TearDown(Level.Trial)
  public void close() {
    cache.close();
  }

  /** The heap the collector reports used, after full GCs. */
  static long usedHeap() {
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
    result.usedHeapBytesPerEntry += usedHeapPerEntry;
    return builds.get();
  }

  /**
   * A class histogram of this process's live objects (HotSpot's {@code GC.class_histogram}, which
   * runs a full GC first): class name to {instances, bytes}.
   */
  static Map<String, long[]> histogram() {
    String text;
    try {
      text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
          new Object[] {new String[0]}, new String[] {String[].class.getName()});
    } catch (JMException e) {
      throw new IllegalStateException("no class histogram on this JVM", e);
    }
    Map<String, long[]> classes = new HashMap<>();
    for (String line : text.split("\n")) {
      Matcher m = HISTOGRAM_ROW.matcher(line);
      if (m.matches()) {
        classes.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
      }
    }
    return classes;
  }

  /** The bytes of all live objects in a {@link #histogram()}. */
  static long liveHeap(Map<String, long[]> histogram) {
    return histogram.values().stream().mapToLong(row -> row[1]).sum();
  }
}
