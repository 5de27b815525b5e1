package dev.statewright.benchmarks;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.Freshness;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Question 2: do reads stall while their keys are rebuilt? Groups of two threads each. In
 * {@code statewright} one thread reads ({@code acquireAsync()+close()} on 64 CURRENT keys, under
 * {@code boundedStaleness(1 min)}) while the other upserts a new spec of those keys, one after the
 * other, each as soon as the last is served, so a rebuild is always in flight. In {@code map}, the
 * baseline in the same class and run, one thread reads a {@link ConcurrentHashMap} while the other
 * replaces its values. Sampled latency: target reader p99.9 at most 2x the map reader's. A read
 * that would have to wait for a build counts as blocked and fails the trial: under bounded
 * staleness none may.
 *
 * <p>Two more groups say what the reader's tail is made of, because on a 2-core machine the
 * {@code statewright} group runs more threads than {@code map}: each rebuild hands its build to a
 * {@link Scheduler#system()} worker and the upserting thread waits for it, so a worker and the
 * writer wake each other once per rebuild, and a woken thread may preempt the reader (a sampled read
 * spanning that preemption takes as long as the woken thread runs: microseconds on an idle machine,
 * tens of them on a loaded one). {@code mapHandoffs} is the map baseline with the same threads and
 * wake-ups: its writer hands each replace, with a build's work, to a cached pool like the system
 * scheduler's workers and waits for it. {@code statewrightInline} is the cache with builds run on
 * the upserting thread (a {@link Scheduler} whose {@code execute} runs the task in place), so no
 * thread beyond the two exists, as in {@code map}. The first is the fair baseline for
 * {@code statewright}, the second prices the read path itself against {@code map}; the report
 * shows both beside the original ratio, which stays the target. Measured with a scratch copy that
 * timed every read and read the reader thread's counters: the reads of 16-64 us follow the
 * reader's involuntary context switches; with the reader alone on one CPU and every other thread
 * of the JVM on the other, the cache reader's p99.9 came within 1.3x of the map reader's; reads
 * that closed the last lease of a replaced client (running its release) or retried a lease raced
 * by a replacement were slow, but under 0.01 % of reads, below the p99.9.
 *
 * <p>Read the p99.9 here as roughly "one read in ten thousand". In a scratch copy that also timed
 * every read itself (two runs, pre-touched heap), JMH's sampled p99.9 came out near the self-timed
 * p99.99 of every reader, far above the self-timed p99.9 (cache reader: JMH 29,523 and 33,323 ns;
 * self-timed p99.9 690 and 760 ns, p99.99 33,810 and 32,900 ns; map reader: JMH 4,153 and 3,902
 * ns; self-timed 210 and 200 ns, 3,590 and 3,560 ns). Why JMH's sampled tail is that heavy is not
 * established: its histogram ({@code SampleBuffer.half()} in 1.37) halves every count when it
 * lowers its sampling rate but never a count of 1 to 0, which over-weights lone slow samples, by
 * an amount not measured here. So the preemptions above, about a hundredth of a percent of reads,
 * are what this row ranks; at the self-timed p99.9 the cache reader was 3-4x the map reader's, a
 * cost not traced further (leaving out reads of a client just rebuilt or of a key being rebuilt
 * changed it little: 650 against 760 ns).
 *
 * <p>The forks run on a fixed, pre-touched heap ({@code -Xms1g -Xmx1g -XX:+AlwaysPreTouch}), the
 * same for every group. Without it the reader's allocations (a lease and a future per read) land
 * in heap pages the process has not touched yet, and its first write to each 4 KiB page is a minor
 * page fault of 1-2 us; the cache's groups allocate far more than the map's (nodes and clients per
 * rebuild too), so they meet untouched pages throughout the measurement, the map's only while
 * warming up. Measured (cache reader, five iterations, default heap): 45,051 minor faults of the
 * reader thread against 41,264 reads of 1-2 us; in another run, pre-touched: 0 faults and 2,795
 * such reads.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ReadsDuringRebuildsBenchmark}
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
public class ReadsDuringRebuildsBenchmark {
  static final int KEYS = 64;
  /** What a build does, in {@link Blackhole#consumeCPU} tokens; the hand-off baseline does it too. */
  static final int BUILD_WORK = 2_000;

  /** The cache, its keys, and the baseline map. */
  @State(Scope.Group)
  public static class Shared {
    final String[] keys = new String[KEYS];
    final ConcurrentHashMap<String, Object> map = new ConcurrentHashMap<>();
    final AtomicLong blockedReads = new AtomicLong();
    ClientCache<String, Long, Object> cache;

    /** The scheduler the cache runs its builds on; the system scheduler here. */
    Scheduler scheduler() {
      return Scheduler.system();
    }

    @Setup(Level.Trial)
    public void fill() {
      cache = ClientCache.<String, Long, Object>builder((key, spec) -> {
            Blackhole.consumeCPU(BUILD_WORK); // a build does some work
            return new Object();
          })
          .freshness(Freshness.boundedStaleness(Duration.ofMinutes(1)))
          .scheduler(scheduler())
          .build();
      CompletableFuture<?>[] built = new CompletableFuture<?>[KEYS];
      for (int i = 0; i < KEYS; i++) {
        keys[i] = "repository-" + i;
        map.put(keys[i], new Object());
        built[i] = cache.upsert(keys[i], 1L, 1);
      }
      CompletableFuture.allOf(built).join();
    }

    @TearDown(Level.Trial)
    public void check() {
      cache.close();
      if (blockedReads.get() > 0) {
        throw new IllegalStateException(blockedReads.get()
            + " reads had to wait for a build under boundedStaleness");
      }
    }
  }

  /** As {@link Shared}, with every build run on the upserting thread: no worker threads. */
  @State(Scope.Group)
  public static class InlineBuilds extends Shared {
    @Override
    Scheduler scheduler() {
      return InPlace.INSTANCE;
    }
  }

  /** Runs each task on the thread that hands it over; timers go to the system scheduler. */
  static final class InPlace implements Scheduler {
    static final InPlace INSTANCE = new InPlace();

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public void execute(Runnable task) {
      task.run();
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      return Scheduler.system().schedule(task, delay);
    }
  }

  /** The map baseline's threads made like the cache's: a cached pool the writer hands work to. */
  @State(Scope.Group)
  public static class Handoffs {
    ExecutorService workers;

    @Setup(Level.Trial)
    public void start() {
      workers = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "handoff-worker");
        thread.setDaemon(true);
        return thread;
      });
    }

    @TearDown(Level.Trial)
    public void stop() {
      workers.shutdown();
    }
  }

  /** Each thread's own position and version counter. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;
    long version = 1;

    String key(Shared shared) {
      return shared.keys[next++ & (KEYS - 1)];
    }
  }

  @Benchmark
  @Group("statewright")
  @GroupThreads(1)
  public Object read(Shared shared, Cursor cursor) {
    return lease(shared, cursor);
  }

  private static Object lease(Shared shared, Cursor cursor) {
    CompletableFuture<ClientLease<Object>> lease = shared.cache.acquireAsync(cursor.key(shared));
    if (!lease.isDone()) {
      shared.blockedReads.incrementAndGet();
    }
    try (ClientLease<Object> held = lease.join()) {
      return held.get();
    }
  }

  @Benchmark
  @Group("statewright")
  @GroupThreads(1)
  public Object rebuild(Shared shared, Cursor cursor) {
    String key = cursor.key(shared);
    return shared.cache.upsert(key, ++cursor.version, cursor.version).join();
  }

  @Benchmark
  @Group("map")
  @GroupThreads(1)
  public Object mapRead(Shared shared, Cursor cursor) {
    return shared.map.get(cursor.key(shared));
  }

  @Benchmark
  @Group("map")
  @GroupThreads(1)
  public Object mapReplace(Shared shared, Cursor cursor) {
    return shared.map.put(cursor.key(shared), new Object());
  }

  @Benchmark
  @Group("statewrightInline")
  @GroupThreads(1)
  public Object inlineRead(InlineBuilds shared, Cursor cursor) {
    return lease(shared, cursor);
  }

  @Benchmark
  @Group("statewrightInline")
  @GroupThreads(1)
  public Object inlineRebuild(InlineBuilds shared, Cursor cursor) {
    String key = cursor.key(shared);
    return shared.cache.upsert(key, ++cursor.version, cursor.version).join();
  }

  @Benchmark
  @Group("mapHandoffs")
  @GroupThreads(1)
  public Object handoffRead(Shared shared, Cursor cursor) {
    return shared.map.get(cursor.key(shared));
  }

  /** As the cache's writer: hands a build's work and the replace to a worker, and waits. */
  @Benchmark
  @Group("mapHandoffs")
  @GroupThreads(1)
  public Object handoffReplace(Shared shared, Handoffs handoffs, Cursor cursor) {
    String key = cursor.key(shared);
    return CompletableFuture.supplyAsync(() -> {
      Blackhole.consumeCPU(BUILD_WORK);
      return shared.map.put(key, new Object());
    }, handoffs.workers).join();
  }
}
