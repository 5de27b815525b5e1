package dev.statewright.benchmarks;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 3: how many builds do N updates to one key cost while a build is in flight? Each
 * operation starts a build that waits on a latch, sends N updates, releases the build and waits
 * until the last update is served. Each operation is one single-shot iteration, so the aux counter
 * {@code builds} is the factory calls of one operation. Baseline in the same class and run: a
 * naive cache that calls the same factory once per update. Target: at most 2 builds.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar CoalescingBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(1)
public class CoalescingBenchmark {
  @Param({"10", "100", "1000"})
  public int updates;

  private final AtomicInteger factoryCalls = new AtomicInteger();
  private volatile CountDownLatch inFlight = new CountDownLatch(0);
  private final ClientFactory<String, Integer, Integer> factory = (key, spec) -> {
    factoryCalls.incrementAndGet();
    inFlight.await();
    return spec;
  };
  private ClientCache<String, Integer, Integer> cache;
  private int version;

  /** Builds per operation, reported beside the time. */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class Builds {
    public long builds;
  }

  @Setup(Level.Trial)
  public void setUp() {
    cache = ClientCache.builder(factory).build();
  }

  @Benchmark
  public Integer coalesced(Builds counter) {
    int before = factoryCalls.get();
    CountDownLatch gate = new CountDownLatch(1);
    inFlight = gate;
    CompletableFuture<?> last = null;
    for (int i = 0; i < updates; i++) {
      version++;
      last = cache.upsert("redis", version, version);
    }
    gate.countDown();
    last.join();
    counter.builds += factoryCalls.get() - before;
    return cache.snapshot("redis").orElseThrow().servedSpec().orElseThrow();
  }

  @Benchmark
  public Integer rebuildPerUpdate(Builds counter) throws Exception {
    int before = factoryCalls.get();
    inFlight = new CountDownLatch(0);
    Integer client = null;
    for (int i = 0; i < updates; i++) {
      client = factory.build("redis", ++version); // a naive cache: one build per update, in turn
    }
    counter.builds += factoryCalls.get() - before;
    return client;
  }
}
