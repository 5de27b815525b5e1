package dev.statewright.benchmarks;

import com.github.benmanes.caffeine.cache.CacheLoader;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import dev.statewright.cache.ClientCache;
import dev.statewright.lease.Lease;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 * Question 9: how fresh is the event-driven cache against the policies users pick instead? One
 * workload for every policy, in one class and run: {@value #UPDATES} spec changes to one key, one
 * every {@value #INTERVAL_MICROS} µs, a build parked for {@value #BUILD_MICROS} µs, and a reader
 * that reads the key's client every {@value #READ_EVERY_MICROS} µs. A change's staleness runs from
 * the change until a read returns a client built from it (or newer).
 *
 * <p>Policies ({@code policy}): {@code eventDriven}, the client cache fed by the change events;
 * {@code ttl*}, the field fix of the stale repository client (a read that finds its client older
 * than the TTL reads the spec and rebuilds if it changed, on the reading thread); {@code
 * refreshAfterWrite*}, Caffeine's {@code refreshAfterWrite(d)} with a loader that reads the spec
 * and rebuilds only if it changed; {@code resync*}, a reconcile loop's periodic full resync into
 * the client cache (no events). Each anchor at 1, 10 and 100 ms.
 *
 * <p>Reported per operation (aux counters): staleness p50, p99 and max ({@code stalenessP50Micros}
 * and so on), builds per change ({@code buildsPerChange}, ×1000) and spec reads per client read
 * ({@code specReadsPerRead}, ×1000). Target: the cache's point dominates every anchor's, lower p99
 * staleness at no more builds per change.
 *
 * <p>Staleness is detection, then the build, then the reader's next read. Detection ({@code
 * detectionP50Micros}, {@code detectionP99Micros}) runs from a change until a build of it (or of a
 * newer spec) starts: for the cache, the hand-off from the thread that tells it to a build worker;
 * for a TTL, the wait for a read past it; for a resync, the wait for the next period. It says
 * which part of a policy's tail is its own.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar FreshnessPoliciesBenchmark}
 */
@Fork(1)
public class FreshnessPoliciesBenchmark {
  /** Changes per operation: 200, so a p99 is not the largest change of the operation. */
  static final int UPDATES = 200;
  static final int INTERVAL_MICROS = 5_000;
  static final int BUILD_MICROS = 1_000;
  static final int READ_EVERY_MICROS = 100;
  private static final String KEY = "redis";

  /**
   * The spec store every policy reads from or is told about; counts its reads and builds, and
   * keeps the spec and start time of the last {@value #BUILDS_KEPT} builds.
   */
  static final class Store {
    static final int BUILDS_KEPT = 4 * UPDATES;
    volatile long spec;
    final AtomicLong reads = new AtomicLong();
    final AtomicLong builds = new AtomicLong();
    final long[] builtSpec = new long[BUILDS_KEPT];
    final long[] buildStartedAt = new long[BUILDS_KEPT];

    long read() {
      reads.incrementAndGet();
      return spec;
    }

    /** A build of {@code spec}: parked, as I/O would be. */
    Long build(long built) {
      long startedAt = System.nanoTime();
      int slot = (int) (builds.getAndIncrement() % BUILDS_KEPT);
      buildStartedAt[slot] = startedAt;
      builtSpec[slot] = built; // published by the next getAndIncrement or the reader's future
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(BUILD_MICROS));
      return built;
    }

    /**
     * For each change since {@code buildsBefore} (spec {@code firstSpec + i}, made at {@code
     * changedAt[i]}): when the first build of it or of a newer spec started after it; sorted,
     * nanoseconds after the change.
     */
    long[] detections(long buildsBefore, long firstSpec, long[] changedAt) {
      long[] detection = new long[changedAt.length];
      long end = builds.get();
      for (int i = 0; i < changedAt.length; i++) {
        long first = Long.MAX_VALUE;
        for (long b = Math.max(buildsBefore, end - BUILDS_KEPT); b < end; b++) {
          int slot = (int) (b % BUILDS_KEPT);
          if (builtSpec[slot] >= firstSpec + i && buildStartedAt[slot] - changedAt[i] >= 0) {
            first = Math.min(first, buildStartedAt[slot] - changedAt[i]);
          }
        }
        detection[i] = first;
      }
      Arrays.sort(detection);
      return detection;
    }
  }

  /** What a policy does when the spec changes and when the reader reads. */
  interface Policy extends AutoCloseable {
    /** The store changed to {@code version} (only an event-driven policy hears of it). */
    void changed(long version);

    /** One client read: the spec version its client was built from. */
    long read();

    @Override
    void close();
  }

  /** One policy at one setting, its store, and the reader's bookkeeping. */
  @State(Scope.Thread)
  public static class Cell {
    @Param({"eventDriven", "ttl1ms", "ttl10ms", "ttl100ms", "refreshAfterWrite1ms",
        "refreshAfterWrite10ms", "refreshAfterWrite100ms", "resync1ms", "resync10ms",
        "resync100ms"})
    public String policy;

    final Store store = new Store();
    Policy running;
    long version;

    @Setup(Level.Trial)
    public void setUp() {
      running = policy(policy, store);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      running.close();
    }
  }

  /** What one operation saw. */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class Observed {
    public double stalenessP50Micros;
    public double stalenessP99Micros;
    public double stalenessMaxMicros;
    public double detectionP50Micros;
    public double detectionP99Micros;
    public double buildsPerChange;
    public double specReadsPerRead;
  }

  @Benchmark
  @BenchmarkMode(Mode.SingleShotTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 3)
  @Measurement(iterations = 5)
  public long changes(Cell cell, Observed result) throws Exception {
    ConcurrentSkipListMap<Long, CompletableFuture<Void>> waiting = new ConcurrentSkipListMap<>();
    AtomicBoolean reading = new AtomicBoolean(true);
    AtomicLong reads = new AtomicLong();
    long specReadsBefore = cell.store.reads.get();
    long buildsBefore = cell.store.builds.get();
    long firstSpec = cell.version + 1;
    long[] changedAt = new long[UPDATES];
    Thread reader = new Thread(() -> {
      while (reading.get()) {
        long served = cell.running.read();
        reads.incrementAndGet();
        Map<Long, CompletableFuture<Void>> seen = waiting.headMap(served, true);
        seen.values().forEach(f -> f.complete(null));
        seen.clear();
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(READ_EVERY_MICROS)); // the read pace
      }
    }, "policy-reader");
    reader.start();
    try {
      PacedUpdates updates = PacedUpdates.run(UPDATES,
          TimeUnit.MICROSECONDS.toNanos(INTERVAL_MICROS), 0, i -> {
            long spec = ++cell.version;
            CompletableFuture<Void> seen = new CompletableFuture<>();
            waiting.put(spec, seen);
            changedAt[i] = System.nanoTime();
            cell.store.spec = spec;
            cell.running.changed(spec);
            return seen;
          });
      result.stalenessP50Micros += updates.stalenessMicros(50);
      result.stalenessP99Micros += updates.stalenessMicros(99);
      result.stalenessMaxMicros += updates.maxStalenessMicros();
    } finally {
      reading.set(false);
      reader.join();
    }
    long[] detection = cell.store.detections(buildsBefore, firstSpec, changedAt);
    result.detectionP50Micros += detection[UPDATES * 50 / 100] / 1000.0;
    result.detectionP99Micros += detection[UPDATES * 99 / 100] / 1000.0;
    result.buildsPerChange += 1000.0 * (cell.store.builds.get() - buildsBefore) / UPDATES;
    result.specReadsPerRead += 1000.0 * (cell.store.reads.get() - specReadsBefore)
        / Math.max(1, reads.get());
    return cell.version;
  }

  static Policy policy(String name, Store store) {
    if (name.equals("eventDriven")) {
      return new Cached(store, false, 0);
    }
    long millis = Long.parseLong(name.replaceAll("\\D", ""));
    if (name.startsWith("ttl")) {
      return new TtlRecheck(store, TimeUnit.MILLISECONDS.toNanos(millis));
    }
    if (name.startsWith("refreshAfterWrite")) {
      return new RefreshAfterWrite(store, millis);
    }
    return new Cached(store, true, millis);
  }

  /** The client cache, told by events or by a periodic full resync. */
  static final class Cached implements Policy {
    private final ClientCache<String, Long, Long> cache;
    private final boolean resync;
    private final ScheduledExecutorService loop;

    Cached(Store store, boolean resync, long periodMillis) {
      this.cache = ClientCache.<String, Long, Long>builder((key, spec) -> store.build(spec))
          .build();
      this.resync = resync;
      cache.upsert(KEY, store.spec, store.spec).join();
      this.loop = resync ? Executors.newSingleThreadScheduledExecutor() : null;
      if (resync) {
        loop.scheduleAtFixedRate(() -> {
          long spec = store.read();
          cache.upsert(KEY, spec, spec); // the reconcile loop re-lists: unchanged specs build nothing
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
      }
    }

    @Override
    public void changed(long version) {
      if (!resync) {
        cache.upsert(KEY, version, version); // the watch event carries the spec: no read
      }
    }

    @Override
    public long read() {
      try (Lease<Long> lease = cache.acquire(KEY)) {
        return lease.get();
      }
    }

    @Override
    public void close() {
      if (loop != null) {
        loop.shutdownNow();
      }
      cache.close();
    }
  }

  /** The field fix: a read that finds its client older than the TTL rechecks the spec. */
  static final class TtlRecheck implements Policy {
    private final Store store;
    private final long ttlNanos;
    private long client; // confined to the reader thread
    private long checkedAt;

    TtlRecheck(Store store, long ttlNanos) {
      this.store = store;
      this.ttlNanos = ttlNanos;
      this.client = store.build(store.read());
      this.checkedAt = System.nanoTime();
    }

    @Override
    public void changed(long version) { }

    @Override
    public long read() {
      long now = System.nanoTime();
      if (now - checkedAt >= ttlNanos) {
        long spec = store.read();
        if (spec != client) {
          client = store.build(spec);
        }
        checkedAt = System.nanoTime();
      }
      return client;
    }

    @Override
    public void close() { }
  }

  /** Caffeine's refreshAfterWrite: reads past the period reload in the background. */
  static final class RefreshAfterWrite implements Policy {
    private final LoadingCache<String, Long> cache;

    RefreshAfterWrite(Store store, long periodMillis) {
      this.cache = Caffeine.newBuilder().refreshAfterWrite(Duration.ofMillis(periodMillis))
          .build(new CacheLoader<String, Long>() {
            @Override
            public Long load(String key) {
              return store.build(store.read());
            }

            @Override
            public Long reload(String key, Long old) {
              long spec = store.read();
              return spec == old ? old : store.build(spec); // rebuild only a changed spec
            }
          });
    }

    @Override
    public void changed(long version) { }

    @Override
    public long read() {
      return cache.get(KEY);
    }

    @Override
    public void close() {
      cache.invalidateAll();
    }
  }
}
