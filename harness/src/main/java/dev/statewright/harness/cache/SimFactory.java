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
 * property), independent of what the cache says about it. A build the cache gives up before it
 * calls the factory (its build timeout counts from the build's start, the cache's own work and
 * callbacks before the call included) leaves the factory only one sight of it: a key it was not
 * called for during a whole build timeout ({@link #gaveUpBeforeCalling}).
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
  /** Every call of the factory and every client it delivered, in order of scheduler time. */
  private final List<Call> calls = new ArrayList<>(); // guarded by givenUp
  /** The build timeout of the cache it builds for; null if unknown (nothing is given up uncalled). */
  private volatile Duration buildTimeout;
  /** When it was made: no build of the run started before. */
  private final long created;

  /** A build of {@code key} at {@code version} that the cache gave up. */
  private record GivenUp(String key, long version) { }

  /** A call for {@code key} at {@code version} at {@code nanos}, or a client it delivered then. */
  private record Call(String key, long version, long nanos, boolean delivered) { }

  /**
   * Where a command starts watching: how many builds were given up, and the scheduler time.
   *
   * @param givenUp how many builds the cache had given up
   * @param nanos the scheduler's time
   */
  record Mark(long givenUp, long nanos) { }

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
    this.created = scheduler.nanoTime();
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

  /**
   * The cache under test gives up a build that runs longer than {@code timeout}, counted from the
   * build's start, before its factory call included (for {@link #gaveUpBeforeCalling}).
   *
   * @param timeout the cache's build timeout
   */
  public void buildTimeout(Duration timeout) {
    this.buildTimeout = timeout;
  }

  /** The builds given up so far and the time now: a mark for {@link #gaveUp}. */
  Mark mark() {
    synchronized (givenUp) {
      return new Mark(givenUp.size(), scheduler.nanoTime());
    }
  }

  /**
   * Whether the cache may have given up a build of {@code key} at {@code minVersion} or newer
   * before calling the factory for it, for a command that ran from {@code since} until now: the
   * factory was called for no version of {@code key} during a whole build timeout that ended
   * while the command ran. That is how such a build looks from here: while it holds the key's one
   * flight (C1), no call of the key starts, until it times out. The quiet timeout lies inside the
   * command, unless the build may have started before the command ({@code buildMayPrecede}: an
   * acquire, or an upsert of a version some earlier upsert asked for already) and no client of
   * {@code key} at {@code minVersion} or newer was delivered while the command ran (a cache that
   * served the command's version and then reported a timeout is no such case).
   */
  boolean gaveUpBeforeCalling(String key, long minVersion, Mark since, boolean buildMayPrecede) {
    Duration timeout = buildTimeout;
    if (timeout == null) {
      return false;
    }
    long now = scheduler.nanoTime();
    long t = timeout.toNanos();
    synchronized (givenUp) {
      boolean delivered = false;
      boolean inside = false;
      boolean ending = false;
      long previous = created; // the start of the last call of the key so far, or of the run
      for (Call c : calls) {
        if (!c.key.equals(key) || c.nanos - now > 0) {
          continue;
        }
        if (c.delivered) {
          delivered |= c.version >= minVersion && c.nanos - since.nanos() >= 0;
          continue;
        }
        inside |= quietInside(previous, c.nanos, since.nanos(), t);
        ending |= quietEnding(previous, c.nanos, since.nanos(), t);
        previous = c.nanos;
      }
      inside |= quietInside(previous, now, since.nanos(), t);
      ending |= quietEnding(previous, now, since.nanos(), t);
      return inside || (buildMayPrecede && ending && !delivered);
    }
  }

  /** Whether the quiet stretch from {@code after} to {@code until} holds {@code t} after {@code from}. */
  private static boolean quietInside(long after, long until, long from, long t) {
    return until - (after - from > 0 ? after : from) >= t; // nanoTime: compared by difference
  }

  /** Whether a quiet stretch of {@code t} from {@code after} ends between {@code from} and {@code until}. */
  private static boolean quietEnding(long after, long until, long from, long t) {
    return until - from >= 0 && until - after >= t;
  }

  /**
   * Whether the cache gives up a build of {@code key} at {@code minVersion} or newer, after
   * {@code mark} (and the factory sees it) and within {@code within} of scheduler time: completes
   * true as soon as the factory sees one (at once if it has), false when {@code within} passes
   * without one.
   */
  CompletableFuture<Boolean> gaveUp(String key, long minVersion, Mark mark, Duration within) {
    CompletableFuture<Boolean> seen = new CompletableFuture<>();
    synchronized (givenUp) {
      for (GivenUp g : givenUp.subList((int) mark.givenUp(), givenUp.size())) {
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

  /** The cache gave up call {@code call}, a build of {@code key} at {@code version}. */
  private void givenUp(String key, long version, long call) {
    monitor.buildGivenUp(call);
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

  /** The factory was called for {@code key} at {@code version}, or delivered its client. */
  private void called(String key, long version, boolean delivered) {
    synchronized (givenUp) {
      calls.add(new Call(key, version, scheduler.nanoTime(), delivered));
    }
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
    called(key, spec.version(), false);
    monitor.buildStarted(key, spec.version(), startedAs);
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
        return CompletableFuture.failedFuture(failed(key, spec, startedAs,
            new IOException("injected synchronous failure")));
      case THROWS:
        throw (IllegalStateException) failed(key, spec, startedAs,
            new IllegalStateException("injected throw from build()"));
      case THROWS_ERROR:
        throw (StackOverflowError) failed(key, spec, startedAs,
            new StackOverflowError("injected Error from build()"));
      case FAILS_WITH_ERROR:
        return failsWithErrorLater(key, spec, startedAs);
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
    monitor.buildFinished(key, spec.version(), startedAs, client);
    called(key, spec.version(), true);
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

  private Throwable failed(String key, SimSpec spec, long startedAs, Throwable error) {
    monitor.buildFinished(key, spec.version(), startedAs, null);
    monitor.buildFailed(key, spec.version(), error);
    return error;
  }

  /**
   * A stage that tells the monitor of the build's end before anyone else: a cancelled build
   * inside cancel(), ahead of every callback; {@code over} is set by whoever ends it first. A
   * cancel that takes effect (before the client was delivered) is a build the cache gave up, and
   * so is a delivered client that the cache's own {@code whenComplete} action closed, unserved:
   * on real threads the stage may complete before the cache attaches that action (the factory
   * call has not returned yet), and the cache then takes the client, or closes it, later, on the
   * thread that attaches it.
   */
  private CompletableFuture<SimClient> cancellable(String key, SimSpec spec, long startedAs,
      AtomicBoolean over) {
    return new CompletableFuture<>() {
      @Override
      public boolean cancel(boolean mayInterrupt) {
        if (over.compareAndSet(false, true)) {
          monitor.buildFinished(key, spec.version(), startedAs, null);
        }
        boolean cancelled = super.cancel(mayInterrupt);
        if (cancelled) {
          givenUp(key, spec.version(), startedAs);
        }
        return cancelled;
      }

      @Override
      public CompletableFuture<SimClient> whenComplete(
          BiConsumer<? super SimClient, ? super Throwable> action) {
        return super.whenComplete((client, error) -> {
          try {
            action.accept(client, error);
          } finally {
            if (client != null && client.closes.get() > 0 && client.leases.get() == 0) {
              givenUp(key, spec.version(), startedAs); // taken and closed at once, unserved
            }
          }
        });
      }
    };
  }

  private CompletionStage<SimClient> failsWithErrorLater(String key, SimSpec spec, long startedAs) {
    AtomicBoolean over = new AtomicBoolean();
    CompletableFuture<SimClient> result = cancellable(key, spec, startedAs, over);
    scheduler.schedule(() -> {
      if (over.compareAndSet(false, true)) {
        Throwable error = failed(key, spec, startedAs,
            new StackOverflowError("injected Error failing the stage"));
        completing(key, () -> result.completeExceptionally(error));
      }
    }, Duration.ofMillis(1));
    return result;
  }

  private CompletionStage<SimClient> later(String key, SimSpec spec, long startedAs) {
    AtomicBoolean over = new AtomicBoolean();
    CompletableFuture<SimClient> result = cancellable(key, spec, startedAs, over);
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
        monitor.buildFinished(key, spec.version(), startedAs, null);
        completing(key, () -> result.completeExceptionally(
            new IOException("injected build failure for " + key + " " + spec)));
      } else {
        SimClient client = stamped(new SimClient(key, spec.version(), serials.incrementAndGet(), startedAs,
            monitor));
        monitor.buildFinished(key, spec.version(), startedAs, client);
        called(key, spec.version(), true); // delivered, whether or not it is taken
        if (!completing(key, () -> result.complete(client))) {
          client.close(); // cancelled in the instant since: nobody will ever receive it
        } // delivered and closed at once, unserved: the stage's whenComplete saw it given up
      }
    }, Duration.ofNanos(nanos));
    return result;
  }
}
