package dev.statewright.harness.cache;

import dev.statewright.harness.property.Command;
import dev.statewright.harness.property.Model;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.cache.ClientLease;
import java.io.IOException;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;

/**
 * The client cache as a map of versioned keys with tombstones, checked against any
 * {@link CacheUnderTest}: upserts, deletes and strict acquires on two keys with versions that
 * arrive out of order, builds that take virtual time, leases held for a while. Linearizability
 * (parallel programs) or postconditions (sequential ones) cover C2 and C4; {@link CacheMonitor}
 * covers C1, C3, C5, C6 and C8, and, with leases held across replacements, invalidations and
 * failures reported through leases, C10, C11 and C15. With faults on, builds fail or hang (C7)
 * and only the monitors and convergence judge.
 */
public final class CacheModel implements Model<CacheModel.State, CacheModel.Wired> {
  static final List<String> KEYS = List.of("k1", "k2");
  static final int MAX_BUILDS = 2;
  /**
   * An upsert or strict acquire that failed with a build timeout while the factory saw the cache
   * give up a build it waited for: a failed build (C7), which C4 lets the command fail with.
   */
  static final String BUILD_GIVEN_UP = "failed: its build timed out";
  /**
   * How long, in scheduler time, a command that failed with a build timeout waits for the factory
   * to see that build given up (the cache may answer before the factory's own thread sees it).
   */
  static final Duration WITNESS_WAIT = Duration.ofSeconds(5);

  private final String name;
  private final Function<Wiring, CacheUnderTest> implementation;
  private final boolean faults;
  private final Liveness liveness; // null: the two-key programs only
  private final boolean renewing; // clients expire, even versions are reconfigured in place

  /**
   * What an implementation is built from.
   *
   * @param scheduler the scheduler of the run
   * @param factory the simulated factory to build clients with
   * @param maxConcurrentBuilds the bulkhead the monitor holds it to
   * @param simulated whether time is virtual (real threads get short timeouts)
   * @param liveness the liveness settings; null for the two-key programs
   * @param hostility how hostile the run's user code is
   * @param source the run's event source; null when the program feeds the cache directly
   * @param listener the run's listener; in the two-key programs a calm one that only tells the
   *     monitor, or null
   */
  public record Wiring(Scheduler scheduler, SimFactory factory, int maxConcurrentBuilds,
      boolean simulated, Liveness liveness, Hostility hostility, SimSource source,
      HostileListener listener) {

    /**
     * A wiring of the two-key programs: no hostility, no source.
     *
     * @param scheduler the scheduler of the run
     * @param factory the simulated factory to build clients with
     * @param maxConcurrentBuilds the bulkhead the monitor holds it to
     * @param simulated whether time is virtual (real threads get short timeouts)
     */
    public Wiring(Scheduler scheduler, SimFactory factory, int maxConcurrentBuilds, boolean simulated) {
      this(scheduler, factory, maxConcurrentBuilds, simulated, null, Hostility.calm(), null, null);
    }

    /**
     * The build timeout of the two-key programs: short on real threads, so hung builds end.
     *
     * @return 100 ms on real threads, 30 s of virtual time in a simulation
     */
    public Duration buildTimeout() {
      return simulated ? Duration.ofSeconds(30) : Duration.ofMillis(100);
    }
  }

  /**
   * What a liveness property adds to the two-key programs, and how its cache is wired.
   *
   * @param backlogKeys keys a backlog command upserts at once
   * @param maxConcurrentBuilds the bulkhead
   * @param hostility draws each run's hostility from the run's random generator
   * @param source makes the run's source from the number of its starts that throw
   * @param tombstoneRetention how long a tombstone lasts (shorter than the settle time)
   * @param closes whether programs call close() (from any branch)
   */
  public record Liveness(int backlogKeys, int maxConcurrentBuilds,
      Function<RandomGenerator, Hostility> hostility, IntFunction<SimSource> source,
      Duration tombstoneRetention, boolean closes) {

    /**
     * The engine's liveness settings: one permit, a 30 s retention; {@code hostility} per run.
     *
     * @param backlogKeys keys a backlog command upserts at once
     * @param hostility draws each run's hostility from the run's random generator
     * @param closes whether programs call close() (from any branch)
     * @return the settings, with a {@link SimSource} per run
     */
    public static Liveness of(int backlogKeys, Function<RandomGenerator, Hostility> hostility,
        boolean closes) {
      return new Liveness(backlogKeys, 1, hostility, SimSource::new, Duration.ofSeconds(30), closes);
    }

    /** Every key a run may touch: the two of the two-key programs and the backlog's. */
    List<String> allKeys() {
      List<String> all = new ArrayList<>(KEYS);
      for (int i = 0; i < backlogKeys; i++) {
        all.add("b" + i);
      }
      return List.copyOf(all);
    }
  }

  /** The system under test with its monitor and scheduler. */
  public static final class Wired {
    final CacheUnderTest cache;
    final CacheMonitor monitor;
    final SimFactory factory;
    final Scheduler scheduler;
    Wiring wiring;
    List<String> allKeys = KEYS;
    SpinWatchdog watchdog;
    boolean closed;
    /** Per key, the newest version an upsert was invoked with (the witness of a build timeout). */
    final Map<String, Long> highestUpserted = new java.util.concurrent.ConcurrentHashMap<>();

    Wired(CacheUnderTest cache, CacheMonitor monitor, SimFactory factory, Scheduler scheduler) {
      this.cache = cache;
      this.monitor = monitor;
      this.factory = factory;
      this.scheduler = scheduler;
    }

    /** Closes the cache as {@code who} did, then checks that nothing is live (close atomicity). */
    void closeAndCheck(String who) {
      cache.close();
      closed = true;
      monitor.closedByProgram();
      for (String key : allKeys) {
        cache.view(key).ifPresent(v -> monitor.violation("close: after " + who + " returned, " + key
            + " is still live (desired v" + v.desiredVersion() + ", serving v" + v.servedVersion() + ")"));
      }
    }
  }

  /**
   * One key in the model.
   *
   * @param version the newest version, of a spec or of a delete
   * @param live false for a tombstone
   */
  record KeyState(long version, boolean live) { }

  /**
   * The model: every key seen.
   *
   * @param keys the keys
   */
  public record State(Map<String, KeyState> keys) {
    State with(String key, KeyState state) {
      Map<String, KeyState> next = new HashMap<>(keys);
      next.put(key, state);
      return new State(Map.copyOf(next));
    }
  }

  private CacheModel(String name, Function<Wiring, CacheUnderTest> implementation, boolean faults,
      Liveness liveness, boolean renewing) {
    this.name = name;
    this.implementation = implementation;
    this.faults = faults;
    this.liveness = liveness;
    this.renewing = renewing;
  }

  /**
   * The liveness property of the engine's own cache: hostile factories, listeners and sources
   * drawn per run, backlogs of {@code backlogKeys} keys on one permit, closes in any branch;
   * judged by the monitors alone (no linearizability: callbacks delete and close behind the
   * program's back).
   *
   * @param backlogKeys keys a backlog command upserts at once, on the one permit
   * @return the property, named {@code "client cache liveness"}
   */
  public static CacheModel clientCacheLiveness(int backlogKeys) {
    return clientCacheLiveness("client cache liveness", Liveness.of(backlogKeys, Hostility::draw, true));
  }

  /**
   * The liveness property of the engine's own cache one kind of hostility at a time: synchronous
   * builds, throwing listeners, throwing closers, reentrant factories, reentrant listeners, close()
   * from any branch, Errors. (All of them
   * mixed is {@link #clientCacheLiveness(int)}.)
   *
   * @param backlogKeys keys a backlog command upserts at once, on the one permit
   * @return one property per kind of hostility, in the order above
   */
  public static List<CacheModel> clientCacheLivenessAspects(int backlogKeys) {
    return List.of(
        clientCacheLiveness("client cache liveness: synchronous builds",
            Liveness.of(backlogKeys, Hostility::synchronousBuilds, false)),
        clientCacheLiveness("client cache liveness: throwing listeners",
            Liveness.of(backlogKeys, Hostility::throwingListeners, false)),
        clientCacheLiveness("client cache liveness: reentrant factories",
            Liveness.of(backlogKeys, Hostility::reentrantFactories, false)),
        clientCacheLiveness("client cache liveness: throwing closers",
            Liveness.of(backlogKeys, Hostility::throwingClosers, false)),
        clientCacheLiveness("client cache liveness: reentrant listeners",
            Liveness.of(backlogKeys, Hostility::reentrantListeners, false)),
        clientCacheLiveness("client cache liveness: close in parallel",
            Liveness.of(backlogKeys, Hostility::mannered, true)),
        clientCacheLiveness("client cache liveness: Errors", Liveness.of(backlogKeys, Hostility::errors, false)));
  }

  /**
   * One aspect of the liveness property of the engine's own cache, under {@code name}.
   *
   * @param name the property's name, for reports
   * @param liveness the hostility, backlog and wiring of the runs
   * @return the property over the engine's {@code ClientCache}
   */
  public static CacheModel clientCacheLiveness(String name, Liveness liveness) {
    return liveness(name, RealCache::build, liveness);
  }

  /**
   * A liveness property for any implementation, under {@code name}.
   *
   * @param name the property's name, for reports
   * @param implementation builds the cache under test from a run's wiring, once per run
   * @param liveness the hostility, backlog and wiring of the runs
   * @return the property, with failing and hanging builds
   */
  public static CacheModel liveness(String name, Function<Wiring, CacheUnderTest> implementation,
      Liveness liveness) {
    return new CacheModel(name, implementation, true, liveness, false);
  }

  /**
   * The property of the engine's own cache with expiring clients (C12: lifetimes of 400 ms to
   * 1 s, refreshed at half, programs that pause past them) and token rotations reconfigured in
   * place by a reconfigurer that fails one call in four (C13); builds fail as with faults (a
   * failed refresh), but do not hang. Simulation only: the checks compare the factory's clock
   * with the cache's.
   *
   * @return the renewing property of {@code ClientCache}, with faults
   */
  public static CacheModel clientCacheRenewing() {
    return renewing("client cache with expiry and reconfigure", RealCache::build, true);
  }

  /**
   * The renewing property for any implementation, under {@code name}.
   *
   * @param name the property's name, as runs and failures print it
   * @param implementation builds the cache under test from the run's wiring
   * @param faults whether builds fail (never hang) at the injected rate
   * @return the property
   */
  public static CacheModel renewing(String name, Function<Wiring, CacheUnderTest> implementation,
      boolean faults) {
    return new CacheModel(name, implementation, faults, null, true);
  }

  /**
   * The property for the engine's own {@code ClientCache}.
   *
   * @return the two-key property, named {@code "client cache"}, without injected faults
   */
  public static CacheModel clientCache() {
    return of("client cache", RealCache::build, false);
  }

  /**
   * The same with failing and hanging builds.
   *
   * @return the two-key property, named {@code "client cache with faults"}
   */
  public static CacheModel clientCacheWithFaults() {
    return of("client cache with faults", RealCache::build, true);
  }

  /**
   * The property for any implementation, under {@code name}.
   *
   * @param name the property's name, for reports
   * @param implementation builds the cache under test from a run's wiring, once per run
   * @param faults whether builds fail and hang at random
   * @return the two-key property
   */
  public static CacheModel of(String name, Function<Wiring, CacheUnderTest> implementation,
      boolean faults) {
    return new CacheModel(name, implementation, faults, null, false);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public State initialState() {
    return new State(Map.of());
  }

  @Override
  public Command<State, Wired> generate(State state, SplittableRandom random) {
    return liveness == null ? twoKeyCommand(random) : HostileCommands.generate(liveness, random,
        () -> twoKeyCommand(random));
  }

  private Command<State, Wired> twoKeyCommand(SplittableRandom random) {
    String key = KEYS.get(random.nextInt(KEYS.size()));
    long version = 1 + random.nextInt(8);
    int dice = random.nextInt(100);
    if (renewing && dice < 12) {
      return new Pause(Duration.ofMillis(100 + random.nextInt(1_400)));
    }
    if (dice < 45) {
      return new Upsert(key, version, faults);
    }
    if (dice < 60) {
      return new Delete(key, version);
    }
    if (dice < 65) {
      return new Rotate();
    }
    if (dice < 70) {
      return new Invalidate(key);
    }
    boolean reports = random.nextInt(4) == 0; // held longer, across replacements, then reported
    return new Acquire(key, Duration.ofMillis(random.nextInt(reports ? 2000 : 500)), faults, reports,
        random.nextInt(5) == 0 ? BLANK_NAMES.get(random.nextInt(BLANK_NAMES.size())) : null);
  }

  @Override
  public Wired start(Scheduler scheduler) {
    if (liveness != null) {
      return HostileCommands.start(liveness, scheduler, implementation);
    }
    boolean simulated = scheduler instanceof SimulatedScheduler;
    CacheMonitor monitor = new CacheMonitor(MAX_BUILDS, simulated);
    SimFactory factory = new SimFactory(scheduler, monitor, Duration.ofMillis(simulated ? 200 : 2));
    if (faults) {
      factory.faults(0.3, renewing ? 0 : 0.05); // renewing: failed refreshes, no 30 s hangs
    }
    if (renewing) {
      factory.renewing(0.25);
      monitor.clock(scheduler);
      if (scheduler instanceof SimulatedScheduler sim && sim.random().nextBoolean()) {
        // half the runs see the clock wrap just after their first builds, which client
        // lifetimes (under a second) and their refreshes straddle: times compare by difference
        sim.clockOrigin(Long.MAX_VALUE - sim.random().nextLong(Duration.ofMillis(300).toNanos()));
      }
    }
    // a calm listener (it never throws nor draws) through which the monitor hears each transition
    HostileListener listener = new HostileListener(Hostility.calm(), new SplittableRandom(0), monitor);
    Wiring wiring = new Wiring(scheduler, factory, MAX_BUILDS, simulated, null, Hostility.calm(),
        null, listener);
    factory.buildTimeout(wiring.buildTimeout());
    CacheUnderTest cache = implementation.apply(wiring);
    monitor.watch(cache, KEYS);
    if (scheduler instanceof SimulatedScheduler sim) {
      sim.afterEachStep(monitor::afterStep);
    }
    return new Wired(cache, monitor, factory, scheduler);
  }

  @Override
  public void quiesce(Wired system) {
    system.factory.faults(0, 0);
    if (system.wiring != null && system.wiring.liveness() != null) {
      HostileCommands.quiesce(system);
    }
  }

  @Override
  public Duration settle() {
    return faults && !renewing ? Duration.ofMinutes(10) : Duration.ofMinutes(2);
  }

  @Override
  public List<String> finish(Wired system) {
    try {
      if (system.watchdog != null) {
        system.watchdog.stop();
      }
      if (liveness != null) {
        HostileCommands.finish(system);
      }
      return system.monitor.finish(KEYS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of("harness: interrupted while finishing");
    }
  }

  @Override
  public String toString() {
    return name;
  }

  private static KeyState stateOf(State state, String key) {
    return state.keys().get(key);
  }

  /**
   * {@code result}, or {@link #BUILD_GIVEN_UP} if it is a build timeout and the factory sees a
   * build of {@code key} at {@code minVersion} or newer given up since {@code mark}: one it was
   * called for, or one given up before its call ({@link SimFactory#gaveUpBeforeCalling}).
   */
  private static CompletionStage<Object> witnessed(Wired system, Object result, String key,
      long minVersion, SimFactory.Mark mark, boolean buildMayPrecede) {
    if (!"failed: TimeoutException".equals(result)) {
      return CompletableFuture.completedFuture(result);
    }
    if (system.factory.gaveUpBeforeCalling(key, minVersion, mark, buildMayPrecede)) {
      return CompletableFuture.completedFuture(BUILD_GIVEN_UP);
    }
    return system.factory.gaveUp(key, minVersion, mark, WITNESS_WAIT)
        .thenApply(seen -> seen ? BUILD_GIVEN_UP : result);
  }

  /** Upsert(key, version): "ok" once served; "stale" below a tombstone. */
  record Upsert(String key, long version, boolean faults) implements Command<State, Wired> {
    @Override
    public Optional<State> apply(State state, Object result) {
      KeyState k = stateOf(state, key);
      boolean belowTombstone = k != null && !k.live() && version <= k.version();
      if (belowTombstone) {
        return "stale".equals(result) || faults ? Optional.of(state) : Optional.empty();
      }
      State next = state.with(key, new KeyState(k == null || !k.live() ? version : Math.max(k.version(), version), true));
      boolean allowed = "ok".equals(result) || "deleted".equals(result) || BUILD_GIVEN_UP.equals(result)
          || (faults && String.valueOf(result).startsWith("failed"));
      return allowed ? Optional.of(next) : Optional.empty();
    }

    @Override
    public Optional<State> applyUnknown(State state) {
      KeyState k = stateOf(state, key);
      return apply(state, k != null && !k.live() && version <= k.version() ? "stale" : "ok");
    }

    /**
     * On real threads a build that is merely slow (a loaded machine) exceeds the build timeout,
     * even before the cache calls the factory for it; the cache then fails the upsert with that
     * build's error (C4, C7). The model accepts that as {@link #BUILD_GIVEN_UP} only when the
     * factory saw the cache give up a build of this key at this version or newer while the upsert
     * ran, or was not called for the key during a whole build timeout while it ran; any other
     * failure stays a violation.
     */
    @Override
    public CompletionStage<Object> run(Wired system) {
      SimFactory.Mark mark = system.factory.mark();
      // a build of this version or newer can start before this upsert only if an earlier upsert asked
      boolean buildMayPrecede = upsertedBefore(system);
      return system.cache.upsert(key, version)
          .thenCompose(result -> witnessed(system, result, key, version, mark, buildMayPrecede))
          .thenApply(result -> {
            // the listing read at the answer, which on real threads another branch's delete and
            // re-add may already have changed (the history's linearizability judges C4 there)
            if ("ok".equals(result) && system.scheduler instanceof SimulatedScheduler) {
              system.cache.view(key).filter(v -> v.servedVersion() < version).ifPresent(v ->
                  system.monitor.violation("C4: upsert of " + key + " v" + version
                      + " completed while v" + v.servedVersion() + " was served"));
            }
            return result;
          });
    }

    /** Whether an upsert of the key at this version or newer was invoked before; records this one. */
    private boolean upsertedBefore(Wired system) {
      long[] before = {-1};
      system.highestUpserted.compute(key, (k, old) -> {
        before[0] = old == null ? -1 : old;
        return Math.max(before[0], version);
      });
      return before[0] >= version;
    }

    @Override
    public Object partition() {
      return key;
    }

    @Override
    public List<Command<State, Wired>> shrinks() {
      return version > 1 ? List.of(new Upsert(key, version - 1, faults)) : List.of();
    }

    @Override
    public String toString() {
      return "upsert(" + key + ", v" + version + ")";
    }
  }

  /** Delete(key, version): "ok", or "stale" if the key holds that version or newer. */
  record Delete(String key, long version) implements Command<State, Wired> {
    @Override
    public Optional<State> apply(State state, Object result) {
      KeyState k = stateOf(state, key);
      if (k != null && k.live() && version <= k.version()) {
        return "stale".equals(result) ? Optional.of(state) : Optional.empty();
      }
      long tombstone = k == null ? version : Math.max(k.version(), version);
      return "ok".equals(result)
          ? Optional.of(state.with(key, new KeyState(tombstone, false))) : Optional.empty();
    }

    @Override
    public Optional<State> applyUnknown(State state) {
      KeyState k = stateOf(state, key);
      return apply(state, k != null && k.live() && version <= k.version() ? "stale" : "ok");
    }

    @Override
    public CompletionStage<Object> run(Wired system) {
      return system.cache.delete(key, version);
    }

    @Override
    public Object partition() {
      return key;
    }

    @Override
    public String toString() {
      return "delete(" + key + ", v" + version + ")";
    }
  }

  /**
   * Rotate(): the secret every spec reads changed. When it completes, every key it found live
   * serves a client whose build started after the change (C9); the model's versions stay.
   */
  record Rotate() implements Command<State, Wired> {
    @Override
    public Optional<State> apply(State state, Object result) {
      return Optional.of(state);
    }

    @Override
    public Optional<State> applyUnknown(State state) {
      return Optional.of(state);
    }

    @Override
    public CompletionStage<Object> run(Wired system) {
      long before = system.factory.starts();
      List<String> live = KEYS.stream().filter(k -> system.cache.view(k).isPresent()).toList();
      Map<String, Long> generations = new HashMap<>();
      live.forEach(k -> system.cache.generation(k).ifPresent(g -> generations.put(k, g)));
      return system.cache.rotate(SimSpec.SECRET).thenApply(result -> {
        for (String key : "ok".equals(result) ? live : List.<String>of()) { // a failed rebuild says so
          system.cache.servedClient(key).filter(c -> c.startedAs <= before).ifPresent(stale ->
              system.monitor.violation("C9: after the secret changed, " + key + " still serves "
                  + stale + ", built before the change"));
          long was = generations.getOrDefault(key, Long.MAX_VALUE);
          system.cache.generation(key).ifPresent(g -> {
            if (system.cache.view(key).filter(v -> v.servedVersion() >= 0).isPresent() && g <= was) {
              system.monitor.violation("C15: " + key + " was rebuilt for the secret but its "
                  + "generation stayed " + g);
            }
          });
        }
        return result;
      });
    }

    @Override
    public Object partition() {
      return "secret";
    }

    @Override
    public String toString() {
      return "rotate(" + SimSpec.SECRET + ")";
    }
  }

  /** Pause(d): the program waits while time passes, past refresh and expiry points (C12). */
  record Pause(Duration pause) implements HostileCommands.ModelUnchanged {
    @Override
    public CompletionStage<Object> run(Wired system) {
      CompletableFuture<Object> done = new CompletableFuture<>();
      system.scheduler.schedule(() -> done.complete("ok"), pause);
      return done;
    }

    @Override
    public Object partition() {
      return "time";
    }

    @Override
    public String toString() {
      return "pause(" + pause.toMillis() + " ms)";
    }
  }

  /**
   * Invalidate(key): the user reports the served client failing (C11), then acquires again, as a
   * holder whose call failed would; "marked", "nothing" (none served yet), "none" for an absent key.
   */
  record Invalidate(String key) implements Command<State, Wired> {
    @Override
    public Optional<State> apply(State state, Object result) {
      KeyState k = stateOf(state, key);
      boolean live = k != null && k.live();
      boolean allowed = live ? "marked".equals(result) || "nothing".equals(result)
          : "none".equals(result);
      return allowed ? Optional.of(state) : Optional.empty();
    }

    @Override
    public Optional<State> applyUnknown(State state) {
      return Optional.of(state);
    }

    @Override
    public CompletionStage<Object> run(Wired system) {
      long generation = system.cache.generation(key).orElse(-1);
      return system.cache.invalidate(key).thenApply(result -> {
        if ("marked".equals(result)) {
          system.monitor.invalidated(key, generation);
          system.cache.acquire(key).thenAccept(lease -> {
            system.monitor.leaseHeld(key, lease, generation);
            lease.close();
          });
        }
        return result;
      });
    }

    @Override
    public Object partition() {
      return key;
    }

    @Override
    public String toString() {
      return "invalidate(" + key + ")";
    }
  }

  /** Names a thread may have that a lease cannot: a reader's name is its leases' holder. */
  static final List<String> BLANK_NAMES = List.of("", " ", "\t\n");

  /**
   * Acquire(key): the version of a fresh client, held for a while; "none" for an absent key. With
   * {@code reports}, the holder reports its client failing when it lets go, replaced or not. With a
   * {@code threadName}, the reading thread is so named while it calls (one of {@link #BLANK_NAMES}).
   */
  record Acquire(String key, Duration hold, boolean faults, boolean reports, String threadName)
      implements Command<State, Wired> {
    @Override
    public Optional<State> apply(State state, Object result) {
      KeyState k = stateOf(state, key);
      Object expected = k != null && k.live() ? (Object) k.version() : "none";
      boolean allowed = expected.equals(result) || (BUILD_GIVEN_UP.equals(result) && !(expected instanceof String))
          || (faults && !"none".equals(result) && !(expected instanceof String));
      return allowed ? Optional.of(state) : Optional.empty();
    }

    @Override
    public Optional<State> applyUnknown(State state) {
      return Optional.of(state);
    }

    @Override
    public CompletionStage<Object> run(Wired system) {
      CompletableFuture<Object> result = new CompletableFuture<>();
      long brokenAtStart = system.monitor.invalidatedGeneration(key);
      SimFactory.Mark mark = system.factory.mark();
      acquire(system).whenComplete((lease, error) -> {
        if (error != null) {
          Throwable cause = error instanceof CompletionException ? error.getCause() : error;
          if (cause instanceof NoSuchElementException || !(cause.getCause() instanceof TimeoutException)) {
            result.complete(cause instanceof NoSuchElementException ? "none" : "unavailable");
            return;
          }
          // a strict acquire fails with the build it waits for: judged as an upsert is
          witnessed(system, "failed: TimeoutException", key, 0, mark, true).thenAccept(r ->
              result.complete(BUILD_GIVEN_UP.equals(r) ? r : "unavailable"));
          return;
        }
        result.complete(hold(system, lease, brokenAtStart));
      });
      return result;
    }

    private CompletionStage<ClientLease<SimClient>> acquire(Wired system) {
      if (threadName == null) {
        return system.cache.acquire(key);
      }
      Thread reader = Thread.currentThread();
      String name = reader.getName();
      reader.setName(threadName);
      try {
        return system.cache.acquire(key);
      } finally {
        reader.setName(name);
      }
    }

    private Object hold(Wired system, ClientLease<SimClient> lease, long brokenAtStart) {
      SimClient client = lease.get();
      client.leases.incrementAndGet();
      system.monitor.leaseTaken();
      system.monitor.handedOut(client);
      if (client.closes.get() > 0) {
        system.monitor.violation("C6: " + client + " was handed out already closed");
      }
      if (system.scheduler instanceof SimulatedScheduler) { // the listing and the lease, same instant
        system.cache.view(key).filter(v -> v.servedVersion() != client.version).ifPresent(v ->
            system.monitor.violation("C5: the listing shows " + key + " v" + v.servedVersion()
                + " while acquire handed out " + client));
      }
      CacheMonitor.Held held = system.monitor.leaseHeld(key, lease, brokenAtStart);
      system.scheduler.schedule(() -> {
        if (reports && held != null) {
          boolean current = lease.isCurrent();
          long before = system.cache.generation(key).orElse(-1);
          boolean marked = lease.reportFailure(new IOException("connection refused, reported by its holder"));
          system.monitor.reported(held, current, marked, before);
        }
        client.leases.decrementAndGet();
        lease.close();
        system.monitor.leaseGiven();
      }, system.scheduler instanceof SimulatedScheduler ? hold : hold.dividedBy(100));
      return client.version;
    }

    @Override
    public Object partition() {
      return key;
    }

    @Override
    public String toString() {
      String from = threadName == null ? "" : ", from a thread named '" + threadName
          .replace("\t", "\\t").replace("\n", "\\n") + "'";
      return reports ? "acquire(" + key + from + ", held " + hold.toMillis()
          + " ms, then reported failing)" : "acquire(" + key + from + ")";
    }
  }
}
