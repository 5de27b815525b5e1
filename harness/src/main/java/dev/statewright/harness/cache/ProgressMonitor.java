package dev.statewright.harness.cache;

import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.lifecycle.Transition;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Liveness in virtual time, and what the cache holds: the checks that a cache which never breaks
 * C1–C9 can still fail by stalling or leaking. Each reports under its own prefix:
 * <ul>
 *   <li>{@code progress:} every key that wants a build has one running, a retry scheduled or an
 *       error recorded within {@link #BOUND}, unless every permit is busy; and at the end of the
 *       settle time no key still waits for nothing;
 *   <li>{@code permits:} bulkhead permits in use equal builds running (a surplus may last only
 *       {@link #BOUND}: a lost permit stays lost);
 *   <li>{@code callbacks:} whenever a user callback runs (a listener method, the closer) no more
 *       permits are in use than builds that may hold one: those in their factory call and those
 *       started (their key entered REBUILDING) but not yet called. A build whose call has returned
 *       holds none while any callback runs, or a callback that blocks stalls every other key;
 *   <li>{@code answers:} no user callback of one key runs while the factory is completing another
 *       key's build whose client is served already and whose upserts of it are not yet answered:
 *       an update answers its own waiters before anything of another key can run on its thread
 *       (a queued build started there, whose callback blocks, would hold them up); callbacks
 *       made from inside user code (a listener, closer or factory calling back in) are that
 *       code's own and not judged;
 *   <li>{@code recursion:} every build starts at a bounded stack depth (a bulkhead that starts the
 *       next build from inside the last one's completion recurses once per queued key);
 *   <li>{@code throwable:} a build that failed, with an exception or an {@link Error}, is noticed
 *       before virtual time moves on: an error recorded, a retry scheduled or a new build started;
 *   <li>{@code memory:} after the settle time (longer than the tombstone retention) no tombstone
 *       is left and the dependency index holds no more keys than are live.
 * </ul>
 *
 * <p>Simulation only: it reads virtual time and runs between steps, on the scheduler's thread.
 * Key scans are O(keys), so they run when virtual time has moved by {@link #SCAN_EVERY}, at the
 * first settled instant (no task ready).
 */
final class ProgressMonitor {
  /** How long a key may want a build with nothing happening, or a permit be unaccounted for. */
  static final Duration BOUND = Duration.ofSeconds(10);
  private static final long SCAN_EVERY = Duration.ofSeconds(1).toNanos();
  private static final int MAX_EXTRA_FRAMES = 300;

  private final Scheduler scheduler;
  private final int maxConcurrentBuilds;
  private final Consumer<String> violations;
  private final Map<String, Integer> running = new HashMap<>();
  private final Map<String, Long> starts = new HashMap<>();
  private final Map<String, Long> idleSince = new HashMap<>();
  private final Map<String, Failure> unnoticed = new HashMap<>();
  private final List<String> reported = new ArrayList<>();
  /**
   * Per key, builds started (the key entered REBUILDING) whose factory call has not come: each
   * holds a permit until it is called or given up. Keys in {@code fresh} have one not yet
   * announced by onBuildStarted; given up then, its permit is back before the update that gave it
   * up tells anyone. Announced, it is called at once, or, for a blocking factory, when a worker
   * runs it; given up before that, onBuildFinished hears a CancellationException once its permit
   * is back.
   */
  private final Map<String, Integer> uncalled = new HashMap<>();
  private final Set<String> fresh = new HashSet<>();
  private boolean heldThroughCallback;
  /** Upserts the harness made and not yet seen answered, per key: version and answer. */
  private final Map<String, List<Upsert>> unanswered = new HashMap<>();
  /** The key whose build's stage the factory is completing right now; null outside that. */
  private String completing;
  private boolean answeredLate;
  private CacheUnderTest cache;
  private List<String> keys = List.of();
  private int building;
  private long surplusSince = -1;
  private long lastScan;
  private long shallowest = Long.MAX_VALUE;
  private boolean recursed;

  /** A failed build the cache has yet to notice. */
  private record Failure(long version, long at, long startsBefore, Throwable error) { }

  /** An upsert of one version and its answer. */
  private record Upsert(long version, CompletionStage<?> answer) {
    boolean answered() {
      return answer.toCompletableFuture().isDone();
    }
  }

  ProgressMonitor(Scheduler scheduler, int maxConcurrentBuilds, Consumer<String> violations) {
    this.scheduler = scheduler;
    this.maxConcurrentBuilds = maxConcurrentBuilds;
    this.violations = violations;
  }

  void watch(CacheUnderTest cache, List<String> keys) {
    this.cache = cache;
    this.keys = List.copyOf(keys);
  }

  void buildStarted(String key) {
    called(key);
    fresh.remove(key);
    running.merge(key, 1, Integer::sum);
    starts.merge(key, 1L, Long::sum);
    building++;
    checkDepth(key);
  }

  void buildFinished(String key) {
    running.merge(key, -1, Integer::sum);
    building--;
  }

  void buildFailed(String key, long version, Throwable error) {
    unnoticed.put(key, new Failure(version, scheduler.nanoTime(), starts.getOrDefault(key, 0L), error));
  }

  /** The listener is told of {@code t}; a build started or given up counts before the check. */
  void transition(String key, Transition<EntryState, EntryEvent> t) {
    if (t.event() == EntryEvent.BUILD_STARTED || t.event() == EntryEvent.BUILD_SUPERSEDED) {
      uncalled.merge(key, 1, Integer::sum);
      fresh.add(key);
    }
    if (t.from() == EntryState.REBUILDING && t.to() != EntryState.REBUILDING && fresh.remove(key)) {
      called(key); // given up before its call: its permit came back before this was told
    }
    callback("onTransition(" + t + ")", key);
  }

  /** The listener is told that {@code key}'s build is about to call its factory. */
  void buildAnnounced(String key) {
    callback("onBuildStarted", key);
    fresh.remove(key);
  }

  /** The listener is told that {@code key}'s build finished with {@code error} (null: built). */
  void buildTold(String key, Throwable error) {
    if (error instanceof CancellationException && !fresh.contains(key)) {
      called(key); // an announced build given up before a worker called its factory
    }
    callback("onBuildFinished", key);
  }

  /** The closer runs on {@code client}. */
  void closerRuns(SimClient client) {
    callback("the closer of " + client, client.key);
  }

  /**
   * A user callback about {@code key} runs now: permits in use are at most the builds that may
   * hold one.
   */
  void callback(String what, String key) {
    checkAnswered(what, key);
    OptionalInt inUse = cache == null ? OptionalInt.empty() : cache.permitsInUse();
    int starting = uncalled.values().stream().mapToInt(Integer::intValue).sum();
    if (inUse.isPresent() && inUse.getAsInt() > building + starting && !heldThroughCallback) {
      heldThroughCallback = true; // once per run
      report("callbacks: " + inUse.getAsInt() + " permits in use while " + what + " of " + key
          + " runs, but " + building + " builds are in their factory call and " + starting
          + " started and not yet called: a build whose call returned holds its permit through a"
          + " callback");
    }
  }

  /** The harness asked to upsert {@code key} at {@code version}; {@code answer} completes with it. */
  void upserted(String key, long version, CompletionStage<?> answer) {
    Upsert upsert = new Upsert(version, answer);
    List<Upsert> upserts = unanswered.computeIfAbsent(key, k -> new ArrayList<>());
    upserts.removeIf(Upsert::answered);
    if (!upsert.answered()) {
      upserts.add(upsert);
    }
  }

  /** The factory completes the stage of a build of {@code key} now; null once it has. */
  void completing(String key) {
    completing = key;
  }

  /**
   * A callback of {@code key} runs while the factory completes another key's build: that
   * completion's update must have answered its upserts first, unless user code made this call.
   */
  private void checkAnswered(String what, String key) {
    String built = completing;
    List<Upsert> upserts = built == null || built.equals(key) ? null : unanswered.get(built);
    if (upserts == null || answeredLate) {
      return;
    }
    upserts.removeIf(Upsert::answered);
    long served = cache.view(built).map(CacheUnderTest.View::servedVersion).orElse(-1L);
    Optional<Upsert> held = upserts.stream().filter(u -> u.version() <= served).findFirst();
    if (held.isPresent() && !fromUserCode()) {
      answeredLate = true; // once per run
      report("answers: " + what + " of " + key + " runs inside the completion of " + built
          + "'s build, which serves v" + served + " while its upsert of v" + held.get().version()
          + " is unanswered: a callback of another key that blocks would hold that answer up");
    }
  }

  /**
   * Whether user code is on the stack below the callback now told: a listener, the closer or a
   * factory calling back into the cache, whose callbacks are its own doing.
   */
  private static boolean fromUserCode() {
    return StackWalker.getInstance().walk(frames -> frames.filter(f ->
        f.getClassName().equals(HostileListener.class.getName())
            || f.getClassName().equals(SimClient.class.getName()) && f.getMethodName().equals("close")
            || f.getClassName().equals(SimFactory.class.getName())
                && f.getMethodName().equals("reenterOnce")).count() > 1);
  }

  /** A build of {@code key} started earlier is called, or given up, now. */
  private void called(String key) {
    uncalled.computeIfPresent(key, (k, n) -> n > 1 ? n - 1 : null);
  }

  /** Between two steps: permits, failures noticed, and every second of virtual time the keys. */
  void afterStep() {
    if (cache == null) {
      return;
    }
    long now = scheduler.nanoTime();
    checkPermits(now);
    unnoticed.entrySet().removeIf(e -> noticedOrLate(e.getKey(), e.getValue(), now));
    if (now - lastScan >= SCAN_EVERY && settled()) {
      lastScan = now;
      keys.forEach(key -> checkProgress(key, now));
    }
  }

  /**
   * Whether this instant is settled: no task is ready at it, so the cache has done all it will do
   * now (a permit given back hands its drain to a task, and a scan between the two would see a
   * key waiting that its drain is about to start).
   */
  private boolean settled() {
    return !(scheduler instanceof SimulatedScheduler sim) || !sim.hasReadyTasks();
  }

  /** After the settle time, before the cache closes: nothing waits for nothing, nothing leaks. */
  void finish(boolean closed) {
    if (cache == null) {
      return;
    }
    for (String key : keys) {
      cache.view(key).filter(v -> v.pending() && !v.retryScheduled() && !v.errorRecorded()
          && running.getOrDefault(key, 0) == 0).ifPresent(v -> report("progress: " + key
          + " still wants a build after the run settled (desired v" + v.desiredVersion() + ", serving v"
          + v.servedVersion() + "), with no build running, no retry scheduled and no error recorded"));
    }
    checkMemory(closed);
  }

  private void checkDepth(String key) {
    long depth = StackWalker.getInstance().walk(frames -> frames.count());
    shallowest = Math.min(shallowest, depth);
    if (!recursed && depth > shallowest + MAX_EXTRA_FRAMES) {
      recursed = true;
      report("recursion: the build of " + key + " started " + (depth - shallowest)
          + " frames deeper than the shallowest build: builds start from inside earlier ones");
    }
  }

  private void checkPermits(long now) {
    OptionalInt inUse = cache.permitsInUse();
    if (inUse.isEmpty()) {
      return;
    }
    if (inUse.getAsInt() < building) {
      report("permits: " + building + " builds running on " + inUse.getAsInt() + " permits");
    }
    if (inUse.getAsInt() <= building) {
      surplusSince = -1;
    } else if (surplusSince < 0) {
      surplusSince = now;
    } else if (now - surplusSince > BOUND.toNanos()) {
      report("permits: " + inUse.getAsInt() + " permits in use but " + building
          + " builds running, for " + Duration.ofNanos(now - surplusSince) + ": a permit was lost");
      surplusSince = Long.MAX_VALUE / 2; // once per run
    }
  }

  private boolean noticedOrLate(String key, Failure f, long now) {
    var view = cache.view(key);
    boolean noticed = view.isEmpty() || !view.get().pending() || view.get().errorRecorded()
        || view.get().retryScheduled() || starts.getOrDefault(key, 0L) > f.startsBefore
        || view.get().desiredVersion() > f.version;
    if (!noticed && now > f.at) {
      report("throwable: the build of " + key + " v" + f.version + " failed with " + f.error
          + " and by " + Duration.ofNanos(now - f.at) + " later the cache had recorded no error,"
          + " scheduled no retry and started no build");
      return true;
    }
    return noticed;
  }

  private void checkProgress(String key, long now) {
    var view = cache.view(key);
    boolean waiting = view.isPresent() && view.get().pending() && !view.get().retryScheduled()
        && !view.get().errorRecorded() && running.getOrDefault(key, 0) == 0
        && building < maxConcurrentBuilds;
    if (!waiting) {
      idleSince.remove(key);
      return;
    }
    long since = idleSince.computeIfAbsent(key, k -> now);
    if (now - since > BOUND.toNanos()) {
      idleSince.put(key, Long.MAX_VALUE / 2); // once per key
      report("progress: " + key + " has wanted a build (desired v" + view.get().desiredVersion()
          + ", serving v" + view.get().servedVersion() + ") for " + Duration.ofNanos(now - since)
          + " with no build running, no retry scheduled, no error recorded and " + building + " of "
          + maxConcurrentBuilds + " permits busy");
    }
  }

  private void checkMemory(boolean closed) {
    long tombstones = closed ? 0 : keys.stream().filter(cache::hasTombstone).count();
    if (tombstones > 0) {
      report("memory: " + tombstones + " tombstones outlived their retention");
    }
    long live = keys.stream().filter(k -> cache.view(k).isPresent()).count();
    OptionalInt indexed = cache.dependencyIndexSize();
    if (indexed.isPresent() && indexed.getAsInt() > live) {
      report("memory: the dependency index holds " + indexed.getAsInt() + " keys while " + live
          + " are live (each live spec has one dependency)");
    }
  }

  private void report(String violation) {
    reported.add(violation);
    violations.accept(violation);
  }
}
