package dev.statewright.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.Snapshot;
import dev.statewright.lease.Lease;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 * Question 1: what does reading cost? 1,024 CURRENT keys read in a Zipf(1.0) order:
 * {@code snapshot()} and {@code acquire()+close()} of the client cache, against
 * {@link ConcurrentHashMap#get}, Caffeine's {@code getIfPresent}, and an {@link AtomicLong}
 * increment+decrement pair (the floor for a counted lease), all in this class and run. Targets:
 * {@code snapshot} at least 0.75x the map's throughput and 1.0x Caffeine's with 0 B/op; {@code
 * acquireClose} at most 2x the pair at 1 thread and 1.5x at 2.
 *
 * <p>What limits {@code acquireClose} at 1 thread: {@link #minimalLease} in the same run is the
 * floor of any lease behind a map lookup whose close is idempotent when raced (three atomics, two
 * objects per key). A cached client's read walks five objects per key (map node, entry, node,
 * client, resource), which 1,024 keys push out of L1; run with {@code -Dkeys=16} (all in L1) to
 * separate that depth from the instructions on the path.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ReadPathBenchmark -t 1 -prof gc}
 * (and {@code -t 2}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class ReadPathBenchmark {
  /** 1,024; {@code -jvmArgsAppend -Dkeys=16} for the experiment the class comment describes. */
  static final int KEYS = Integer.getInteger("keys", 1_024);

  /** The same 1,024 keys in every structure, every cache entry CURRENT. */
  @State(Scope.Benchmark)
  public static class Caches {
    final String[] keys = new String[KEYS];
    final ConcurrentHashMap<String, Object> map = new ConcurrentHashMap<>();
    final Cache<String, Object> caffeine = Caffeine.newBuilder().build();
    final AtomicLong pair = new AtomicLong();
    final ConcurrentHashMap<String, AtomicLong> counters = new ConcurrentHashMap<>();
    ClientCache<String, Integer, Object> cache;

    @Setup(Level.Trial)
    public void fill() {
      cache = ClientCache.<String, Integer, Object>builder((key, spec) -> new Object()).build();
      CompletableFuture<?>[] built = new CompletableFuture<?>[KEYS];
      for (int i = 0; i < KEYS; i++) {
        keys[i] = "repository-" + i;
        map.put(keys[i], new Object());
        counters.put(keys[i], new AtomicLong());
        caffeine.put(keys[i], new Object());
        built[i] = cache.upsert(keys[i], i, 1);
      }
      CompletableFuture.allOf(built).join();
    }

    @TearDown(Level.Trial)
    public void close() {
      cache.close();
    }
  }

  /** Each thread's own Zipf-distributed sequence of keys. */
  @State(Scope.Thread)
  public static class Reader {
    private static final int LENGTH = 1 << 16;
    final int[] order = new int[LENGTH];
    int next;

    @Setup(Level.Trial)
    public void zipf() {
      double[] cumulative = new double[KEYS];
      double sum = 0;
      for (int i = 0; i < KEYS; i++) {
        sum += 1.0 / (i + 1);
        cumulative[i] = sum;
      }
      SplittableRandom random = new SplittableRandom(Thread.currentThread().getId());
      for (int j = 0; j < LENGTH; j++) {
        double u = random.nextDouble() * sum;
        int lo = 0;
        int hi = KEYS - 1;
        while (lo < hi) {
          int mid = (lo + hi) >>> 1;
          if (cumulative[mid] < u) {
            lo = mid + 1;
          } else {
            hi = mid;
          }
        }
        order[j] = lo;
      }
    }

    String key(Caches caches) {
      int i = next;
      next = (i + 1) & (LENGTH - 1);
      return caches.keys[order[i]];
    }
  }

  @Benchmark
  public Object chmGet(Caches caches, Reader reader) {
    return caches.map.get(reader.key(caches));
  }

  @Benchmark
  public Object caffeineGetIfPresent(Caches caches, Reader reader) {
    return caches.caffeine.getIfPresent(reader.key(caches));
  }

  @Benchmark
  public Optional<Snapshot<String, Integer, Object>> snapshot(Caches caches, Reader reader) {
    return caches.cache.snapshot(reader.key(caches));
  }

  @Benchmark
  public Object acquireClose(Caches caches, Reader reader) {
    try (Lease<Object> lease = caches.cache.acquire(reader.key(caches))) {
      return lease.get();
    }
  }

  /**
   * The least a lease behind a map lookup can cost if its {@code close} must be idempotent when
   * raced: look the key up, count the lease in (one atomic), allocate the lease, and on close flip
   * its flag (one atomic) and count it out (one atomic). Nothing else: no freshness, no JFR, no
   * retirement. The floor {@code acquireClose} is measured against, in the same run.
   */
  @Benchmark
  public Object minimalLease(Caches caches, Reader reader) {
    try (MinimalLease lease = new MinimalLease(caches.counters.get(reader.key(caches)))) {
      return lease.counter;
    }
  }

  /** One open lease of {@link #minimalLease}. */
  static final class MinimalLease implements AutoCloseable {
    final AtomicLong counter;
    private final AtomicBoolean closed = new AtomicBoolean();

    MinimalLease(AtomicLong counter) {
      counter.incrementAndGet();
      this.counter = counter;
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        counter.decrementAndGet();
      }
    }
  }

  @Benchmark
  public long atomicLongPair(Caches caches, Reader reader) {
    reader.key(caches);
    caches.pair.incrementAndGet();
    return caches.pair.decrementAndGet();
  }
}
