package dev.statewright.benchmarks;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientFactory;
import java.util.Arrays;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
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
 * Question 4: how fresh does a client stay per unit of rebuild work? A sweep over update interval
 * × build cost × policy. Each operation sends {@value #UPDATES} updates to one key, one every
 * {@code intervalMicros}, to a factory that takes {@code buildMicros} (parked, as I/O would be),
 * and measures each update's staleness: from {@code upsert} until a reader can see that version
 * or a newer one (when the upsert's future completes, C4). Policies: {@code coalescing}, the
 * client cache (one build in flight, then one of the newest spec); {@code perUpdate}, the naive
 * baseline in the same class and run, one build per update, in order, on one thread.
 *
 * <p>Reported per operation (aux counters): builds per update ({@code buildsPerUpdate}, ×1000),
 * staleness p50 and p99 ({@code stalenessP50Micros}, {@code stalenessP99Micros}), and the bound
 * {@code T/R + 1} on builds (T the time updates lasted, R the build cost) for the target builds ≤
 * 1.05 × (T/R + 1). Builds are parked, and a park overshoots on a busy machine, so R in the
 * staleness target is the builds' own measured p99 ({@code buildP99Micros}): staleness p99 − build
 * p99 ≤ 2 × the executor round trip p99 at the same pace, which {@link #pacedRoundTrip} measures
 * in the same run ({@link #executorRoundTrip} measures it back to back, for reference).
 *
 * <p>Where an isolated update's staleness goes beyond its build, per update and in the same run
 * ({@code handOffP50Micros}, {@code handOffP99Micros}: from {@code upsert} until the factory is
 * called; {@code finishP50Micros}, {@code finishP99Micros}: from the factory's return until the
 * update is seen), for both policies: the hand-off is the same parked-worker wake-up for both,
 * the finish is what the cache does after a build (apply the outcome, retire the old client,
 * tell the listeners, answer the waiters) against the baseline's bare future.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar FreshnessBenchmark}
 */
@Fork(1)
public class FreshnessBenchmark {
  static final int UPDATES = 200;
  static final int WARM_UP_UPDATES = 20_000;
  static final String KEY = "redis";
  /** The pace of the isolated cells, and of {@link #pacedRoundTrip}. */
  static final int ISOLATED_INTERVAL_MICROS = 10_000;

  /** One cell of the sweep: its parameters, its cache and its naive baseline's thread. */
  @State(Scope.Thread)
  public static class Cell {
    @Param({"100", "1000", "10000"})
    public int intervalMicros;

    @Param({"1000", "5000"})
    public int buildMicros;

    @Param({"coalescing", "perUpdate"})
    public String policy;

    final AtomicInteger builds = new AtomicInteger();
    final Queue<Long> buildTimes = new ConcurrentLinkedQueue<>();
    /** By spec version: when its build's call began and when it returned (System.nanoTime()). */
    final Map<Long, long[]> calls = new ConcurrentHashMap<>();
    ClientCache<String, Long, Long> cache;
    ExecutorService naive;
    long version;

    @Setup(Level.Trial)
    public void setUp() {
      ClientFactory<String, Long, Long> factory = (key, spec) -> {
        if (key.equals(KEY)) {
          build(spec);
        }
        return spec;
      };
      cache = ClientCache.builder(factory).build();
      naive = Executors.newSingleThreadExecutor();
      if (policy.equals("coalescing")) {
        warmUp(cache);
      }
    }

    /**
     * Runs the cache's path from upsert to served {@value #WARM_UP_UPDATES} times, one after the
     * other, on another key whose builds take no time: so the measured updates run compiled code,
     * as in a controller that has been up a while (the naive baseline runs almost no code of its
     * own, so it needs none). Without it the cache's path was still partly interpreted after the
     * 600 updates of the warm-up iterations.
     */
    private static void warmUp(ClientCache<String, Long, Long> cache) {
      for (long v = 1; v <= WARM_UP_UPDATES; v++) {
        cache.upsert("warm-up", v, v).join();
      }
      cache.delete("warm-up", WARM_UP_UPDATES + 1).join();
    }

    /**
     * One build of {@code version}: {@code buildMicros} parked, as I/O would be, and timed as it
     * really took.
     */
    void build(long version) {
      builds.incrementAndGet();
      long start = System.nanoTime();
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(buildMicros));
      long end = System.nanoTime();
      buildTimes.add(end - start);
      calls.put(version, new long[] {start, end});
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      cache.close();
      naive.shutdownNow();
    }
  }

  /** What one operation saw. */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class Freshness {
    public double buildsPerUpdate;
    public double buildBound;
    public double builds;
    public double stalenessP50Micros;
    public double stalenessP99Micros;
    public double buildP99Micros;
    public double handOffP50Micros;
    public double handOffP99Micros;
    public double finishP50Micros;
    public double finishP99Micros;
  }

  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 3)
  @Measurement(iterations = 3)
  public long sweep(Cell cell, Freshness result) throws Exception {
    AtomicInteger builds = cell.builds;
    builds.set(0);
    cell.buildTimes.clear();
    cell.calls.clear();
    long buildNanos = TimeUnit.MICROSECONDS.toNanos(cell.buildMicros);
    long[] specs = new long[UPDATES];
    PacedUpdates updates = PacedUpdates.run(UPDATES,
        TimeUnit.MICROSECONDS.toNanos(cell.intervalMicros), 0, i -> {
          long spec = ++cell.version;
          specs[i] = spec;
          return cell.policy.equals("coalescing") ? cell.cache.upsert(KEY, spec, spec)
              : CompletableFuture.runAsync(() -> cell.build(spec), cell.naive);
        });
    result.builds += builds.get();
    result.buildsPerUpdate += 1000.0 * builds.get() / UPDATES;
    result.buildBound += (double) updates.sendingNanos() / buildNanos + 1;
    result.stalenessP50Micros += updates.stalenessMicros(50);
    result.stalenessP99Micros += updates.stalenessMicros(99);
    long[] buildTimes = cell.buildTimes.stream().mapToLong(Long::longValue).sorted().toArray();
    result.buildP99Micros += buildTimes[buildTimes.length * 99 / 100] / 1000.0;
    if (cell.intervalMicros > cell.buildMicros) { // isolated: every update is built, once
      long[] handOffs = new long[UPDATES];
      long[] finishes = new long[UPDATES];
      int built = 0;
      for (int i = 0; i < UPDATES; i++) {
        long[] call = cell.calls.get(specs[i]); // null if a newer update came before its build
        if (call != null) {
          handOffs[built] = call[0] - updates.sentAt(i);
          finishes[built++] = updates.seenAt(i) - call[1];
        }
      }
      handOffs = Arrays.copyOf(handOffs, built);
      finishes = Arrays.copyOf(finishes, built);
      result.handOffP50Micros += percentileMicros(handOffs, 50);
      result.handOffP99Micros += percentileMicros(handOffs, 99);
      result.finishP50Micros += percentileMicros(finishes, 50);
      result.finishP99Micros += percentileMicros(finishes, 99);
    }
    return cell.version;
  }

  private static double percentileMicros(long[] nanos, int percent) {
    Arrays.sort(nanos);
    return nanos[nanos.length * percent / 100] / 1000.0;
  }

  /** What {@link #pacedRoundTrip} saw. */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class RoundTrips {
    public double roundTripP50Micros;
    public double roundTripP99Micros;
  }

  /**
   * The executor round trip an isolated update pays: {@value #UPDATES} tasks handed to the cache's
   * default executor at the isolated cells' pace ({@value #ISOLATED_INTERVAL_MICROS} µs), each
   * timed from hand-off until it ran, so each finds the worker parked, as an isolated update's
   * build does. {@link #executorRoundTrip} measures the same hand-off back to back, to a running
   * worker.
   */
  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 3)
  @Measurement(iterations = 3)
  public long pacedRoundTrip(RoundTrips result) throws Exception {
    PacedUpdates trips = PacedUpdates.run(UPDATES,
        TimeUnit.MICROSECONDS.toNanos(ISOLATED_INTERVAL_MICROS), 0,
        i -> {
          CompletableFuture<Object> ran = new CompletableFuture<>();
          dev.statewright.time.Scheduler.system().execute(() -> ran.complete(Boolean.TRUE));
          return ran;
        });
    result.roundTripP50Micros += trips.stalenessMicros(50);
    result.roundTripP99Micros += trips.stalenessMicros(99);
    return trips.sendingNanos();
  }

  /** The time to hand a task to the cache's default executor and see it run, back to back. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Warmup(iterations = 2, time = 1)
  @Measurement(iterations = 3, time = 1)
  public Object executorRoundTrip() {
    CompletableFuture<Object> ran = new CompletableFuture<>();
    dev.statewright.time.Scheduler.system().execute(() -> ran.complete(Boolean.TRUE));
    return ran.join();
  }
}
