package dev.statewright.benchmarks;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.Freshness;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
 * Question 2: do reads stall while their keys are rebuilt? Two groups of two threads each. In
 * {@code statewright} one thread reads ({@code acquireAsync()+close()} on 64 CURRENT keys, under
 * {@code boundedStaleness(1 min)}) while the other upserts a new spec of those keys, one after the
 * other, each as soon as the last is served, so a rebuild is always in flight. In {@code map}, the baseline in the same class and run, one
 * thread reads a {@link ConcurrentHashMap} while the other replaces its values. Sampled latency:
 * target reader p99.9 at most 2x the map reader's. A read that would have to wait for a build
 * counts as blocked and fails the trial: under bounded staleness none may.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ReadsDuringRebuildsBenchmark}
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class ReadsDuringRebuildsBenchmark {
  static final int KEYS = 64;

  /** The cache, its keys, and the baseline map. */
  @State(Scope.Group)
  public static class Shared {
    final String[] keys = new String[KEYS];
    final ConcurrentHashMap<String, Object> map = new ConcurrentHashMap<>();
    final AtomicLong blockedReads = new AtomicLong();
    ClientCache<String, Long, Object> cache;

    @Setup(Level.Trial)
    public void fill() {
      cache = ClientCache.<String, Long, Object>builder((key, spec) -> {
            Blackhole.consumeCPU(2_000); // a build does some work
            return new Object();
          })
          .freshness(Freshness.boundedStaleness(Duration.ofMinutes(1)))
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
}
