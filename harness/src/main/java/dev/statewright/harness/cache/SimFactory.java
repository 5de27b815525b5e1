package dev.statewright.harness.cache;

import dev.statewright.cache.AsyncClientFactory;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * Builds {@link SimClient}s after a random latency of scheduler time, so a build takes virtual
 * time in a simulation (slow builds). Fault injection: a failure rate fails some builds, a hang
 * rate leaves some never completing (until a timeout cancels them), and {@link #failNext} fails
 * the next N builds and then succeeds. A {@link Hostility} gives builds other {@link BuildShape}s:
 * complete or fail synchronously, throw, throw an {@link Error}, or call back into the cache
 * through {@link #reenter} (never from inside another such call).
 *
 * <p>It also witnesses which builds the cache gave up ({@link #gaveUp}): a stage the cache
 * cancelled before the factory delivered its client, or a delivered client the cache closed at
 * once, unserved. That is the factory's own sight of a build abandoned (a timeout, in the two-key
 * property), independent of what the cache says about it.
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
  private volatile Hostility hostility = Hostility.calm();
  private volatile BiConsumer<String, SimSpec> reentry = (key, spec) -> { };
  private volatile boolean renewing;
  private volatile double reconfigureFailureRate;
  private boolean reentering; // simulation only: one thread
  private volatile Duration delay = Duration.ZERO;
  /** Builds the cache gave up, in order; and checks waiting for one. */
  private final List<GivenUp> givenUp = new ArrayList<>(); // guarded by itself
  private final List<Witness> witnesses = new ArrayList<>(); // guarded by givenUp

  /** A build of {@code key} at {@code version} that the cache gave up. */
  private record GivenUp(String key, long version) { }

  /** A wait for a build of {@code key} at {@code minVersion} or newer given up after {@code mark}. */
  private record Witness(String key, long minVersion, CompletableFuture<Boolean> seen) { }

  /**
   * Builds take up to {@code maxLatency}; {@code monitor} sees every build.
   *
   * @param scheduler times the builds and draws their latency and shape
   * @param monitor told of every build started, finished and failed, with the client made
   * @param maxLatency the longest a build that completes later takes
   */
  public SimFactory(Scheduler scheduler, CacheMonitor monitor, Duration maxLatency) {
    this.scheduler = scheduler;
    this.monitor = monitor;
    this.maxLatency = maxLatency;
  }

  /**
   * The next {@code count} builds fail, whatever the rates say; then they succeed again.
   *
   * @param count how many builds fail; replaces a count not yet used up
   */
  public void failNext(int count) {
    failFirst.set(count);
  }

  /**
   * From now on, fail this share of builds and hang that share.
   *
   * @param failureRate the share of builds that fail, from 0 to 1
   * @param hangRate the share of builds that never complete, from 0 to 1
   */
  public void faults(double failureRate, double hangRate) {
    this.failureRate = failureRate;
    this.hangRate = hangRate;
  }

  /**
   * From now on, shape builds as {@code hostility} says.
   *
   * @param hostility the weights of the build shapes to draw from
   */
  public void hostility(Hostility hostility) {
    this.hostility = hostility;
  }

  /**
   * What a {@link BuildShape#REENTRANT} build calls on the cache, from inside build().
   *
   * @param reentry the call back into the cache, given the key and spec being built
   */
  public void reenter(BiConsumer<String, SimSpec> reentry) {
    this.reentry = reentry;
  }

  /**
   * From now on, give every client a lifetime (400, 700 or 1,000 ms by its version, C12) and fail
   * this share of {@link #reconfigure} calls (C13).
   *
   * @param reconfigureFailureRate the share of reconfigure calls that throw, in [0, 1]
   */
  public void renewing(double reconfigureFailureRate) {
    this.renewing = true;
    this.reconfigureFailureRate = reconfigureFailureRate;
  }

  /**
   * Whether clients get lifetimes and specs may be reconfigured in place.
   *
   * @return true once {@link #renewing(double)} was called
   */
  public boolean renewing() {
    return renewing;
  }

  /** The lifetime of a client of {@code version}: short enough that programs outlive it. */
  static Duration lifetimeOf(long version) {
    return Duration.ofMillis(400 + 300 * (version % 3));
  }

  /**
   * The cache's reconfigurer: makes {@code client} reflect {@code spec} in place, or throws
   * (at the injected rate) leaving it as it was; the monitor checks the listing after it (C13).
   *
   * @param client the live client to change
   * @param spec the spec it should now reflect
   * @throws IOException the injected failure, the client left as it was
   */
  public void reconfigure(SimClient client, SimSpec spec) throws IOException {
    try {
      if (scheduler.random().nextDouble() < reconfigureFailureRate) {
        throw new IOException("injected reconfigure failure for " + client + " to " + spec);
      }
      client.version = spec.version();
    } finally {
      monitor.reconfigured(client);
    }
  }

  /**
   * From now on, builds that complete later (neither hanging nor synchronous) take {@code delay}
   * longer: a loaded machine, where a build that is merely slow can exceed the build timeout.
   *
   * @param delay the extra time each later build takes; {@link Duration#ZERO} for none
   */
  public void delay(Duration delay) {
    this.delay = delay;
  }

  /** How many builds the cache has given up so far: a mark for {@link #gaveUp}. */
  long givenUpMark() {
    synchronized (givenUp) {
      return givenUp.size();
    }
  }

  /**
   * Whether the cache gives up a build of {@code key} at {@code minVersion} or newer, after
   * {@code mark} and within {@code within} of scheduler time: completes true as soon as the factory
   * sees one (at once if it has), false when {@code within} passes without one.
   */
  CompletableFuture<Boolean> gaveUp(String key, long minVersion, long mark, Duration within) {
    CompletableFuture<Boolean> seen = new CompletableFuture<>();
    synchronized (givenUp) {
      for (GivenUp g : givenUp.subList((int) mark, givenUp.size())) {
        if (g.key.equals(key) && g.version >= minVersion) {
          return CompletableFuture.completedFuture(true);
        }
      }
      witnesses.add(new Witness(key, minVersion, seen));
    }
    var timer = scheduler.schedule(() -> seen.complete(false), within);
    seen.whenComplete((ok, error) -> timer.cancel());
    return seen;
  }

  /** The cache gave up the build of {@code key} at {@code version}. */
  private void givenUp(String key, long version) {
    List<Witness> told = new ArrayList<>();
    synchronized (givenUp) {
      givenUp.add(new GivenUp(key, version));
      witnesses.removeIf(w -> w.seen.isDone());
      for (Witness w : witnesses) {
        if (w.key.equals(key) && version >= w.minVersion) {
          told.add(w);
        }
      }
      witnesses.removeAll(told);
    }
    told.forEach(w -> w.seen.complete(true)); // outside the lock: it answers a command
  }

  /**
   * Builds started so far.
   *
   * @return the number of factory calls made, failed and hanging ones included
   */
  public long starts() {
    return starts.get();
  }

  @Override
  public CompletionStage<SimClient> build(String key, SimSpec spec) {
    long startedAs = starts.incrementAndGet();
    monitor.buildStarted(key, spec.version());
    BuildShape shape = reentering ? BuildShape.AT_ONCE : hostility.nextShape(scheduler.random());
    return shape == BuildShape.LATER ? later(key, spec, startedAs) : shaped(shape, key, spec, startedAs);
  }

  /**
   * A blocking call of a synchronous shape: the client, or the shape's exception or Error.
   *
   * @param key the key to build a client for
   * @param spec the spec to build it from
   * @return the client; null if the drawn shape does not complete at once
   * @throws Exception the exception a failing shape fails with (an Error is rethrown as is)
   */
  public SimClient buildBlocking(String key, SimSpec spec) throws Exception {
    CompletableFuture<SimClient> result = build(key, spec).toCompletableFuture();
    if (!result.isDone()) { // a blocking call cannot wait in a simulation: the harness drew wrong
      monitor.violation("harness: a blocking factory call of " + key + " v" + spec.version()
          + " was given a shape that completes later, so it returned nothing");
    }
    try {
      return result.getNow(null);
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private CompletionStage<SimClient> shaped(BuildShape shape, String key, SimSpec spec, long startedAs) {
    switch (shape) {
      case AT_ONCE:
        return CompletableFuture.completedFuture(finished(key, spec, startedAs));
      case FAILS_AT_ONCE:
        return CompletableFuture.failedFuture(failed(key, spec, new IOException("injected synchronous failure")));
      case THROWS:
        throw (IllegalStateException) failed(key, spec, new IllegalStateException("injected throw from build()"));
      case THROWS_ERROR:
        throw (StackOverflowError) failed(key, spec, new StackOverflowError("injected Error from build()"));
      case FAILS_WITH_ERROR:
        return failsWithErrorLater(key, spec);
      default:
        reenterOnce(key, spec);
        return CompletableFuture.completedFuture(finished(key, spec, startedAs));
    }
  }

  private void reenterOnce(String key, SimSpec spec) {
    reentering = true;
    try {
      reentry.accept(key, spec);
    } finally {
      reentering = false;
    }
  }

  /** Completes a build's stage of {@code key} by {@code completion}, the monitor told around it. */
  private boolean completing(String key, BooleanSupplier completion) {
    monitor.completing(key);
    try {
      return completion.getAsBoolean();
    } finally {
      monitor.completing(null);
    }
  }

  private SimClient finished(String key, SimSpec spec, long startedAs) {
    SimClient client = stamped(new SimClient(key, spec.version(), serials.incrementAndGet(), startedAs, monitor));
    monitor.buildFinished(key, spec.version(), client);
    return client;
  }

  /** A renewing factory's client gets its lifetime, counted from now: the end of its build. */
  private SimClient stamped(SimClient client) {
    if (renewing) {
      client.lifetime = lifetimeOf(client.version);
      client.expiresAt = scheduler.nanoTime() + client.lifetime.toNanos();
    }
    return client;
  }

  private Throwable failed(String key, SimSpec spec, Throwable error) {
    monitor.buildFinished(key, spec.version(), null);
    monitor.buildFailed(key, spec.version(), error);
    return error;
  }

  /**
   * A stage that tells the monitor of the build's end before anyone else: a cancelled build
   * inside cancel(), ahead of every callback; {@code over} is set by whoever ends it first. A
   * cancel that takes effect (before the client was delivered) is a build the cache gave up.
   */
  private CompletableFuture<SimClient> cancellable(String key, SimSpec spec, AtomicBoolean over) {
    return new CompletableFuture<>() {
      @Override
      public boolean cancel(boolean mayInterrupt) {
        if (over.compareAndSet(false, true)) {
          monitor.buildFinished(key, spec.version(), null);
        }
        boolean cancelled = super.cancel(mayInterrupt);
        if (cancelled) {
          givenUp(key, spec.version());
        }
        return cancelled;
      }
    };
  }

  private CompletionStage<SimClient> failsWithErrorLater(String key, SimSpec spec) {
    AtomicBoolean over = new AtomicBoolean();
    CompletableFuture<SimClient> result = cancellable(key, spec, over);
    scheduler.schedule(() -> {
      if (over.compareAndSet(false, true)) {
        Throwable error = failed(key, spec, new StackOverflowError("injected Error failing the stage"));
        completing(key, () -> result.completeExceptionally(error));
      }
    }, Duration.ofMillis(1));
    return result;
  }

  private CompletionStage<SimClient> later(String key, SimSpec spec, long startedAs) {
    AtomicBoolean over = new AtomicBoolean();
    CompletableFuture<SimClient> result = cancellable(key, spec, over);
    double dice = scheduler.random().nextDouble();
    if (dice < hangRate) {
      return result; // completes only when the cache cancels it
    }
    boolean fails = dice < hangRate + failureRate || failFirst.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    long nanos = 1 + scheduler.random().nextLong(Math.max(1, maxLatency.toNanos())) + delay.toNanos();
    scheduler.schedule(() -> {
      if (!over.compareAndSet(false, true)) {
        return; // the cache gave up on this build
      }
      if (fails) {
        monitor.buildFinished(key, spec.version(), null);
        completing(key, () -> result.completeExceptionally(
            new IOException("injected build failure for " + key + " " + spec)));
      } else {
        SimClient client = stamped(new SimClient(key, spec.version(), serials.incrementAndGet(), startedAs,
            monitor));
        monitor.buildFinished(key, spec.version(), client);
        if (!completing(key, () -> result.complete(client))) {
          client.close(); // cancelled in the instant since: nobody will ever receive it
        } else if (client.closes.get() > 0 && client.leases.get() == 0) {
          givenUp(key, spec.version()); // delivered, and closed at once unserved: given up as it ended
        }
      }
    }, Duration.ofNanos(nanos));
    return result;
  }
}
