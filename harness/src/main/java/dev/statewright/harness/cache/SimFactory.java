package dev.statewright.harness.cache;

import dev.statewright.cache.AsyncClientFactory;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Builds {@link SimClient}s after a random latency of scheduler time, so a build takes virtual
 * time in a simulation (slow builds). Fault injection: a failure rate fails some builds, a hang
 * rate leaves some never completing (until a timeout cancels them), and {@link #failNext} fails
 * the next N builds and then succeeds.
 */
public final class SimFactory implements AsyncClientFactory<String, SimSpec, SimClient> {
  private final Scheduler scheduler;
  private final CacheMonitor monitor;
  private final Duration maxLatency;
  private final AtomicInteger serials = new AtomicInteger();
  private final AtomicLong starts = new AtomicLong();
  private volatile double failureRate;
  private volatile double hangRate;
  private final AtomicInteger failFirst = new AtomicInteger();

  /** Builds take up to {@code maxLatency}; {@code monitor} sees every build. */
  public SimFactory(Scheduler scheduler, CacheMonitor monitor, Duration maxLatency) {
    this.scheduler = scheduler;
    this.monitor = monitor;
    this.maxLatency = maxLatency;
  }

  /** The next {@code count} builds fail, whatever the rates say; then they succeed again. */
  public void failNext(int count) {
    failFirst.set(count);
  }

  /** From now on, fail this share of builds and hang that share. */
  public void faults(double failureRate, double hangRate) {
    this.failureRate = failureRate;
    this.hangRate = hangRate;
  }

  /** Builds started so far. */
  public long starts() {
    return starts.get();
  }

  @Override
  public CompletionStage<SimClient> build(String key, SimSpec spec) {
    long startedAs = starts.incrementAndGet();
    monitor.buildStarted(key, spec.version());
    AtomicBoolean over = new AtomicBoolean();
    // the monitor hears of a build's end before anyone else: a cancelled build inside cancel(),
    // ahead of every callback; a finished one just before its stage completes
    CompletableFuture<SimClient> result = new CompletableFuture<>() {
      @Override
      public boolean cancel(boolean mayInterrupt) {
        if (over.compareAndSet(false, true)) {
          monitor.buildFinished(key, spec.version(), null);
        }
        return super.cancel(mayInterrupt);
      }
    };
    double dice = scheduler.random().nextDouble();
    if (dice < hangRate) {
      return result; // completes only when the cache cancels it
    }
    boolean fails = dice < hangRate + failureRate || failFirst.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    long nanos = 1 + scheduler.random().nextLong(Math.max(1, maxLatency.toNanos()));
    scheduler.schedule(() -> {
      if (!over.compareAndSet(false, true)) {
        return; // the cache gave up on this build
      }
      if (fails) {
        monitor.buildFinished(key, spec.version(), null);
        result.completeExceptionally(new IOException("injected build failure for " + key + " " + spec));
      } else {
        SimClient client = new SimClient(key, spec.version(), serials.incrementAndGet(), startedAs, monitor);
        monitor.buildFinished(key, spec.version(), client);
        if (!result.complete(client)) {
          client.close(); // cancelled in the instant since: nobody will ever receive it
        }
      }
    }, Duration.ofNanos(nanos));
    return result;
  }
}
