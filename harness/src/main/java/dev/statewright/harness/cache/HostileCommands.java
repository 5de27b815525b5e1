package dev.statewright.harness.cache;

import dev.statewright.harness.cache.CacheModel.State;
import dev.statewright.harness.cache.CacheModel.Wired;
import dev.statewright.harness.property.Command;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The liveness side of {@link CacheModel}: how a run with hostile user code is wired, and the
 * commands only it generates (a backlog of keys at once, {@code close()} from any branch, events
 * from a source, good and bad, and changes to the data of the Secret every spec reads). Every
 * command is judged by the monitors alone: a factory that deletes or closes behind the program's
 * back leaves no sequential model to compare with.
 */
final class HostileCommands {
  private static final List<String> SECRET_DATA = List.of("Aa", "BB", "C#"); // "Aa" and "BB" share a hashCode

  private HostileCommands() { }

  /** A run's system: monitors over every key, the hostility drawn, the spin watchdog started. */
  static Wired start(CacheModel.Liveness liveness, Scheduler scheduler,
      Function<CacheModel.Wiring, CacheUnderTest> implementation) {
    if (!(scheduler instanceof SimulatedScheduler sim)) {
      throw new IllegalArgumentException("the liveness property runs in simulation only");
    }
    CacheMonitor monitor = new CacheMonitor(liveness.maxConcurrentBuilds(), true);
    CacheModel.Wiring wiring = wiring(liveness, sim, monitor);
    sim.execute(() -> { }, "the run's " + wiring.hostility()); // the trace says what the run was up against
    sim.onUncaught(error -> monitor.violation("isolation: " + error + " escaped into a scheduler thread"
        + where(error)));
    Wired system = wired(implementation, wiring, monitor, error -> monitor.violation(
        "isolation: the cache threw " + error + " while it was being built" + where(error)));
    system.wiring = wiring;
    system.allKeys = liveness.allKeys();
    wiring.factory().reenter((key, spec) -> reenter(system, key, spec, "the factory's build"));
    wiring.listener().reenter(key -> reenter(system, key, new SimSpec(system.cache.view(key)
        .map(CacheUnderTest.View::desiredVersion).orElse(1L)), "a listener's transition"));
    watch(system, sim);
    return system;
  }

  /** The run's hostile user code, drawn from the run's random generator. */
  private static CacheModel.Wiring wiring(CacheModel.Liveness liveness, SimulatedScheduler sim,
      CacheMonitor monitor) {
    SimFactory factory = new SimFactory(sim, monitor, Duration.ofMillis(20));
    Hostility hostility = liveness.hostility().apply(sim.random());
    factory.hostility(hostility);
    monitor.startsAreNewest(!hostility.blocking());
    return new CacheModel.Wiring(sim, factory, liveness.maxConcurrentBuilds(), true, liveness,
        hostility, liveness.source().apply(hostility.failedStarts()),
        new HostileListener(hostility, sim.random(), monitor));
  }

  /** Monitors between steps, over the two keys and the backlog's, and the watchdog on its steps. */
  private static void watch(Wired system, SimulatedScheduler sim) {
    system.monitor.watch(system.cache, CacheModel.KEYS);
    system.monitor.watchProgress(sim, system.allKeys);
    system.watchdog = SpinWatchdog.watchSteps(sim, system.monitor::violation);
    sim.afterEachStep(() -> {
      system.monitor.afterStep();
      system.watchdog.tick();
    });
  }

  private static Wired wired(Function<CacheModel.Wiring, CacheUnderTest> implementation,
      CacheModel.Wiring wiring, CacheMonitor monitor, Consumer<Throwable> failed) {
    CacheUnderTest cache;
    try {
      cache = implementation.apply(wiring);
    } catch (RuntimeException | Error e) {
      failed.accept(e);
      cache = new IsolatingCache(null, monitor);
    }
    return new Wired(cache instanceof IsolatingCache ? cache : new IsolatingCache(cache, monitor),
        monitor, wiring.factory(), wiring.scheduler());
  }

  /** The settle time: user code behaves, so every key can converge. */
  static void quiesce(Wired system) {
    system.factory.hostility(system.wiring.hostility().calmed());
    system.wiring.listener().calm();
  }

  /** After the settle time: a source whose start threw must have been started again. */
  static void finish(Wired system) {
    SimSource source = system.wiring.source();
    if (source != null && source.failedStarts() > 0 && !source.started() && !system.closed) {
      system.monitor.violation("sources: the source's start threw " + source.failedStarts()
          + " time(s) and, after " + source.startAttempts() + " attempt(s), it was never started");
    }
  }

  /** A command of the liveness property; {@code twoKey} makes one of the two-key programs'. */
  static Command<State, Wired> generate(CacheModel.Liveness liveness, SplittableRandom random,
      Supplier<Command<State, Wired>> twoKey) {
    int dice = random.nextInt(100);
    Command<State, Wired> command;
    if (dice < 8) {
      command = new Backlog(liveness.backlogKeys(), 1 + random.nextInt(3));
    } else if (dice < 13 && liveness.closes()) {
      command = new Close();
    } else if (dice < 25) {
      command = new SourceEvent(CacheModel.KEYS.get(random.nextInt(2)), 1 + random.nextInt(8),
          SourceEvent.Kind.values()[random.nextInt(SourceEvent.Kind.values().length)]);
    } else if (dice < 30) {
      command = new SecretChange(SECRET_DATA.get(random.nextInt(SECRET_DATA.size())));
    } else {
      command = twoKey.get();
    }
    return new Judged(command);
  }

  /** What a {@link BuildShape#REENTRANT} build (or a reentrant listener) does to the cache. */
  private static void reenter(Wired system, String key, SimSpec spec, String where) {
    int dice = system.scheduler.random().nextInt(100);
    if (dice < 35) {
      system.cache.delete(key, spec.version() + 1);
    } else if (dice < 70) {
      String other = key.equals("k1") ? "k2" : "k1";
      system.cache.upsert(other, spec.version() + 1);
    } else if (dice < 85) {
      system.closeAndCheck("close() from inside " + where + " of " + key);
    } else {
      system.cache.acquire(key).thenAccept(lease -> lease.close());
    }
  }

  private static String where(Throwable error) {
    StackTraceElement[] stack = error.getStackTrace();
    return stack.length == 0 ? "" : " at " + stack[0];
  }

  /** Any command, judged by the monitors only: every result is allowed. */
  record Judged(Command<State, Wired> command) implements Command<State, Wired> {
    @Override
    public Optional<State> apply(State state, Object result) {
      return command.apply(state, result).or(() -> Optional.of(state));
    }

    @Override
    public Optional<State> applyUnknown(State state) {
      return command.applyUnknown(state).or(() -> Optional.of(state));
    }

    @Override
    public CompletionStage<Object> run(Wired system) {
      return command.run(system);
    }

    @Override
    public Object partition() {
      return command.partition();
    }

    @Override
    public List<Command<State, Wired>> shrinks() {
      return command.shrinks().stream().<Command<State, Wired>>map(Judged::new).toList();
    }

    @Override
    public String toString() {
      return command.toString();
    }
  }

  /** A command that leaves the model as it is: only the monitors judge it. */
  interface ModelUnchanged extends Command<State, Wired> {
    @Override
    default Optional<State> apply(State state, Object result) {
      return Optional.of(state);
    }

    @Override
    default Optional<State> applyUnknown(State state) {
      return Optional.of(state);
    }
  }

  /** Upserts {@code keys} fresh keys at once: a backlog queued on the bulkhead. */
  record Backlog(int keys, long version) implements ModelUnchanged {
    @Override
    public CompletionStage<Object> run(Wired system) {
      for (int i = 0; i < keys; i++) {
        system.cache.upsert("b" + i, version);
      }
      return CompletableFuture.completedFuture("ok");
    }

    @Override
    public List<Command<State, Wired>> shrinks() {
      return keys > 1 ? List.of(new Backlog(keys / 2, version)) : List.of();
    }

    @Override
    public String toString() {
      return "backlog(" + keys + " keys, v" + version + ")";
    }
  }

  /** Closes the cache; after close() returns no key may be live, and no later upsert admitted. */
  record Close() implements ModelUnchanged {
    @Override
    public CompletionStage<Object> run(Wired system) {
      system.closeAndCheck("close()");
      return CompletableFuture.completedFuture("ok");
    }

    @Override
    public String toString() {
      return "close()";
    }
  }

  /**
   * An event from the source. A bad one (a negative version, a spec whose equals throws) must
   * be recorded against its key if the key is live; no event may throw back into the source.
   */
  record SourceEvent(String key, long version, Kind kind) implements ModelUnchanged {
    enum Kind { UPSERT, DELETE, NEGATIVE_VERSION, POISONED_SPEC }

    @Override
    public CompletionStage<Object> run(Wired system) {
      SimSource source = system.wiring.source();
      long known = system.cache.view(key).map(CacheUnderTest.View::desiredVersion).orElse(-1L);
      boolean delivered;
      try {
        delivered = deliver(source);
      } catch (RuntimeException | Error e) {
        system.monitor.violation("events: the cache threw " + e + " back into the source on " + this);
        return CompletableFuture.completedFuture("threw");
      }
      // a poisoned spec is only compared (and found bad) if it is newer than the key's spec
      boolean bad = kind == Kind.NEGATIVE_VERSION || kind == Kind.POISONED_SPEC && poisonedVersion() > known;
      if (delivered && bad && known >= 0 && !system.closed) {
        system.cache.view(key).filter(v -> !v.errorRecorded()).ifPresent(v -> system.monitor.violation(
            "events: " + this + " was not recorded against " + key + " (no last error)"));
      }
      return CompletableFuture.completedFuture(delivered ? "delivered" : "not started");
    }

    private boolean deliver(SimSource source) {
      switch (kind) {
        case DELETE:
          return source.delete(key, version);
        case NEGATIVE_VERSION:
          return source.upsert(key, new SimSpec(version), -version);
        case POISONED_SPEC:
          return source.upsert(key, new SimSpec(poisonedVersion(), true), poisonedVersion());
        default:
          return source.upsert(key, new SimSpec(version), version);
      }
    }

    /** A poisoned spec comes newer than any good one the program sends. */
    private long poisonedVersion() {
      return version + 8;
    }

    @Override
    public Object partition() {
      return key;
    }

    @Override
    public String toString() {
      return "source " + kind.name().toLowerCase(Locale.ROOT) + "(" + key + ", v" + version + ")";
    }
  }

  /** The data of the Secret every spec reads is now {"token": value}; a change must reach the cache. */
  record SecretChange(String value) implements ModelUnchanged {
    @Override
    public CompletionStage<Object> run(Wired system) {
      SimSource source = system.wiring.source();
      Map<String, String> before = source.secretData();
      Map<String, String> after = Map.of("token", value);
      boolean told = source.secretData(after);
      if (source.started() && !before.equals(after) && !told) {
        system.monitor.violation("secrets: the Secret's data changed from " + before + " to " + after
            + " and the source told the cache nothing");
      }
      return CompletableFuture.completedFuture(told ? "told" : "unchanged");
    }

    @Override
    public Object partition() {
      return "secret";
    }

    @Override
    public String toString() {
      return "secret data(token=" + value + ")";
    }
  }
}
