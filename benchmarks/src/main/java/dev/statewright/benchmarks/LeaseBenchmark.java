package dev.statewright.benchmarks;

import dev.statewright.lease.Lease;
import dev.statewright.lease.LeasedResource;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 6: what does a lease cost? {@code acquire(holder)} then {@code close()} on one shared
 * resource (named, as staging uses; counted, as the cache uses), against the two cheapest ways to count a reader: an {@link AtomicLong}
 * increment+decrement pair and a {@link ReentrantLock} lock/unlock, all in this class and run.
 * Run it at 1 and 2 threads ({@code -t 1}, {@code -t 2}); report ratios, not times.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LeaseBenchmark -t 2 -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class LeaseBenchmark {
  private final LeasedResource<String> resource = LeasedResource.of("bench", "client", v -> { });
  private final LeasedResource<String> counted =
      LeasedResource.counted("bench", "client", v -> { }, dev.statewright.time.Scheduler.system());
  private final AtomicLong counter = new AtomicLong();
  private final ReentrantLock lock = new ReentrantLock();

  @Benchmark
  public long atomicLongPair() {
    counter.incrementAndGet();
    return counter.decrementAndGet();
  }

  @Benchmark
  public boolean reentrantLock() {
    lock.lock();
    try {
      return lock.isHeldByCurrentThread();
    } finally {
      lock.unlock();
    }
  }

  @Benchmark
  public String countedAcquireClose() {
    try (Lease<String> lease = counted.acquire("reader")) {
      return lease.get();
    }
  }

  @Benchmark
  public String acquireClose() {
    try (Lease<String> lease = resource.acquire("reader")) {
      return lease.get();
    }
  }
}
