package dev.statewright.harness.canary;

import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.event.EventSink;
import dev.statewright.event.Versioned;
import dev.statewright.harness.cache.BuildShape;
import dev.statewright.harness.cache.CacheModel;
import dev.statewright.harness.cache.CacheModel.Liveness;
import dev.statewright.harness.cache.HostileListener;
import dev.statewright.harness.cache.Hostility;
import dev.statewright.harness.cache.SimClient;
import dev.statewright.harness.cache.SimSource;
import dev.statewright.harness.cache.SimSpec;
import dev.statewright.lifecycle.Transition;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * The liveness bug classes of issue 11 the harness must keep finding, each as a small one-permit
 * cache that gets one thing wrong, run through the liveness property with the hostility that
 * provokes it, and caught only by its own invariant's prefix.
 */
final class LivenessCanaries {
  private static final int BACKLOG = 1_000;

  private LivenessCanaries() { }

  static List<Canary> all() {
    return List.of(
        canary("recursive-gate", "item 1: each returned permit starts the next build one stack frame "
            + "deeper", RecursiveGate::new, shapes(BuildShape.AT_ONCE, 1.0), false, SimSource::new,
            "recursion:"),
        canary("listener-unsafe", "item 2: a listener that throws wedges its key: marked building, "
            + "never built", ListenerUnsafe::new, throwingListener(), false, SimSource::new, "progress:"),
        canary("spinning-abandon", "item 3: a delete from inside the factory waits for a launch "
            + "running on its own thread", SpinningAbandon::new, shapes(BuildShape.REENTRANT, 1.0), false,
            SimSource::new, "reentrancy:"),
        canary("close-racing", "item 4: close() skips keys whose build is in flight, and they go on "
            + "to serve", CloseRacing::new, shapes(BuildShape.LATER, 1.0), true, SimSource::new, "close:"),
        canary("error-swallowing", "item 5: a build that fails with an Error is never noticed",
            ErrorSwallowing::new, shapes(BuildShape.THROWS_ERROR, 0.5), false, SimSource::new,
            "throwable:"),
        canary("leaking-index", "item 6: deleted keys stay in the dependency index", LeakingIndex::new,
            shapes(BuildShape.AT_ONCE, 0.5), false, SimSource::new, "memory:"),
        canary("logs-bad-events", "item 7: a bad spec or version from a source is only logged",
            LogsBadEvents::new, shapes(BuildShape.AT_ONCE, 0.5), false, SimSource::new, "events:"),
        canary("hash-compared-secret", "item 9: a source compares Secret data by 32-bit hash, so a "
            + "colliding rotation reaches no one", Bulkheaded::new, shapes(BuildShape.AT_ONCE, 0.5), false,
            HashComparingSource::new, "secrets:"),
        canary("callback-holds-permit", "the attack's find (9d6f953): a build whose call returned tells "
            + "the listener before its permit is back, so a listener that blocks stalls every other key",
            CallbackHoldsPermit::new, shapes(BuildShape.AT_ONCE, 0.5), false, SimSource::new, "callbacks:"),
        canary("queued-start-first", "the gate's find (a5d93cb): a permit given back starts a queued "
            + "build on the spot, whose transition is told before the finished build's waiters are "
            + "answered, so a listener that blocks holds up another key's upsert",
            QueuedStartFirst::new, shapes(BuildShape.AT_ONCE, 0.5), false, SimSource::new, "answers:"));
  }

  private static Canary canary(String name, String bug, Function<CacheModel.Wiring, Bulkheaded> impl,
      Hostility hostility, boolean closes, IntFunction<SimSource> source, String... catches) {
    Liveness liveness = new Liveness(BACKLOG, 1, random -> hostility, source, Duration.ofSeconds(30), closes);
    return Canary.ofModel(name, bug, CacheModel.liveness("canary " + name, impl::apply, liveness), catches);
  }

  /** Builds that complete later, plus {@code shape} at {@code weight}; nothing else hostile. */
  private static Hostility shapes(BuildShape shape, double weight) {
    Map<BuildShape, Double> shapes = new EnumMap<>(BuildShape.class);
    shapes.put(BuildShape.LATER, 0.2);
    shapes.put(shape, weight);
    return new Hostility(shapes, 0, false, 0, false);
  }

  private static Hostility throwingListener() {
    Map<BuildShape, Double> shapes = new EnumMap<>(BuildShape.class);
    shapes.put(BuildShape.LATER, 0.5);
    shapes.put(BuildShape.AT_ONCE, 0.5);
    return new Hostility(shapes, 0.1, false, 0, false);
  }

  /**
   * A cache with one permit that gets liveness right: a drain loop that never nests, every
   * callback isolated, failures recorded and retried, deleted keys out of the index and their
   * tombstones purged, close() removing every key. Each canary below breaks one of these.
   */
  static class Bulkheaded extends BrokenCache {
    final ArrayDeque<String> queue = new ArrayDeque<>();
    final Map<String, Set<String>> index = new HashMap<>();
    final Set<String> launching = new HashSet<>();
    final HostileListener listener;
    final Duration retention;
    int permits = 1;
    boolean draining;
    boolean closed;

    Bulkheaded(CacheModel.Wiring wiring) {
      super(wiring);
      this.listener = wiring.listener();
      this.retention = wiring.liveness().tombstoneRetention();
      wiring.source().start(new SlotSink());
    }

    @Override
    public CompletionStage<Object> upsert(String key, long version) {
      Slot s = slot(key);
      if (closed || !admit(s, version)) {
        return closed ? CompletableFuture.completedFuture("failed: closed") : stale();
      }
      index.computeIfAbsent(SimSpec.SECRET, d -> new HashSet<>()).add(key);
      if (version > s.desired) {
        s.desired = version;
        request(key);
      }
      return awaitServed(key, version);
    }

    void request(String key) {
      if (!queue.contains(key)) {
        queue.add(key);
      }
      drain();
    }

    /** Starts queued builds while a permit is free; a drain asked for during one is its loop's. */
    void drain() {
      if (draining) {
        return;
      }
      draining = true;
      try {
        startWhilePermitted();
      } finally {
        draining = false;
      }
    }

    final void startWhilePermitted() {
      while (permits > 0 && !queue.isEmpty()) {
        String key = queue.poll();
        Slot s = slots.get(key);
        if (s != null && s.live && !s.building && s.desired > s.servedVersion && !s.retryScheduled) {
          launch(key, s);
        }
      }
    }

    void launch(String key, Slot s) {
      permits--;
      s.building = true;
      long version = s.desired;
      buildStarting(key);
      CompletionStage<SimClient> stage;
      launching.add(key);
      try {
        stage = build(key, version);
      } catch (RuntimeException | Error e) {
        stage = CompletableFuture.failedFuture(e);
      } finally {
        launching.remove(key);
      }
      stage.whenComplete((client, error) -> finished(key, s, client, error));
    }

    /** Tells the listener a build starts; whatever it throws stays here. */
    void buildStarting(String key) {
      try {
        listener.maybeThrow("onBuildStarted");
      } catch (RuntimeException | Error e) {
        // isolated: a listener never changes what the cache does
      }
    }

    void finished(String key, Slot s, SimClient client, Throwable error) {
      permits++;
      s.building = false;
      if (error != null) {
        failed(key, s, error);
      } else if (!s.live || closed) {
        client.close();
      } else {
        servedIfNewer(key, s, client);
      }
      drain();
    }

    void failed(String key, Slot s, Throwable error) {
      s.lastError = error;
      s.retryScheduled = true;
      scheduler.schedule(() -> {
        s.retryScheduled = false;
        if (s.live && !closed) {
          request(key);
        }
      }, Duration.ofMillis(100));
    }

    private void servedIfNewer(String key, Slot s, SimClient client) {
      s.lastError = null;
      if (client.version() > s.servedVersion) {
        serve(key, client);
      } else {
        client.close();
      }
      if (s.desired > s.servedVersion) {
        request(key);
      }
    }

    @Override
    public CompletionStage<Object> delete(String key, long version) {
      Slot s = slot(key);
      if (closed) {
        return CompletableFuture.completedFuture("failed: closed");
      }
      boolean removes = !(s.live && version <= s.desired); // else BrokenCache answers "stale"
      if (removes && launching.contains(key)) {
        awaitLaunch(key);
      }
      CompletionStage<Object> result = super.delete(key, version);
      if (removes) {
        unindex(key);
        queue.remove(key);
        scheduler.schedule(() -> purge(key, s), retention);
      }
      return result;
    }

    /** The tombstone of {@code key} goes, unless the key came back meanwhile. */
    private void purge(String key, Slot s) {
      if (!s.live && slots.get(key) == s) {
        slots.remove(key);
      }
    }

    /** A build of {@code key} is being launched (on this very thread): nothing to wait for. */
    void awaitLaunch(String key) { }

    void unindex(String key) {
      index.values().forEach(keys -> keys.remove(key));
      index.values().removeIf(Set::isEmpty);
    }

    @Override
    public CompletionStage<Object> rotate(String secret) {
      return CompletableFuture.completedFuture("failed: canaries do not rebuild dependents");
    }

    @Override
    public void close() {
      closed = true;
      queue.clear();
      slots.forEach((key, s) -> {
        if (s.live && closes(s)) {
          super.delete(key, s.desired + 1);
          unindex(key);
        }
      });
    }

    /** Whether close() removes this live key. */
    boolean closes(Slot s) {
      return true;
    }

    @Override
    public OptionalInt permitsInUse() {
      return OptionalInt.of(1 - permits);
    }

    @Override
    public OptionalInt dependencyIndexSize() {
      return OptionalInt.of(index.values().stream().mapToInt(Set::size).sum());
    }

    @Override
    public boolean hasTombstone(String key) {
      Slot s = slots.get(key);
      return s != null && !s.live;
    }

    /** A bad event from the source: recorded against its key, if the key is live. */
    void rejected(String key, Exception problem) {
      Slot s = slots.get(key);
      if (s != null && s.live) {
        s.lastError = problem;
      }
    }

    /** What the source delivers to. */
    final class SlotSink implements EventSink<String, SimSpec> {
      @Override
      public void upsert(String key, SimSpec spec, long version) {
        if (version < 0 || spec.poisoned()) {
          rejected(key, new IllegalArgumentException("bad upsert of " + key + ": " + spec + " at v" + version));
        } else {
          Bulkheaded.this.upsert(key, version);
        }
      }

      @Override
      public void delete(String key, long version) {
        Bulkheaded.this.delete(key, version);
      }

      @Override
      public void resync(Map<String, Versioned<SimSpec>> all) {
        all.forEach((key, v) -> upsert(key, v.value(), v.version()));
      }

      @Override
      public void dependencyChanged(Object dependency) {
        // canaries do not rebuild dependents (see rotate)
      }
    }
  }

  /** Item 1: a returned permit starts the next build from inside the finished one, recursively. */
  static final class RecursiveGate extends Bulkheaded {
    RecursiveGate(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void drain() {
      startWhilePermitted(); // the bug: no drain-status word, so the loop nests once per key
    }
  }

  /** Item 2: the listener runs after the key is marked building, unguarded. */
  static final class ListenerUnsafe extends Bulkheaded {
    ListenerUnsafe(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void buildStarting(String key) {
      listener.maybeThrow("onBuildStarted"); // the bug: a throw leaves the key building, unbuilt
    }
  }

  /** Item 3: a delete waits for the key's launch to finish, though the launch is this thread's. */
  static final class SpinningAbandon extends Bulkheaded {
    SpinningAbandon(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void awaitLaunch(String key) {
      while (launching.contains(key) && !Thread.currentThread().isInterrupted()) {
        Thread.onSpinWait(); // the bug; only the watchdog's interrupt (a killed process) ends it
      }
    }
  }

  /** Item 4: close() leaves keys whose build is in flight live, and their builds serve. */
  static final class CloseRacing extends Bulkheaded {
    CloseRacing(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    boolean closes(Slot s) {
      return !s.building; // the bug
    }

  }

  /** Item 5: a build that fails with an Error is dropped: no error, no retry, permit gone. */
  static final class ErrorSwallowing extends Bulkheaded {
    ErrorSwallowing(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void finished(String key, Slot s, SimClient client, Throwable error) {
      if (!(error instanceof Error)) { // the bug: an Error vanishes
        super.finished(key, s, client, error);
      }
    }
  }

  /** Item 6: a deleted key stays in the dependency index. */
  static final class LeakingIndex extends Bulkheaded {
    LeakingIndex(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void unindex(String key) {
      // the bug: the index only grows
    }
  }

  /** Item 7: a bad event is logged, not recorded against its key. */
  static final class LogsBadEvents extends Bulkheaded {
    LogsBadEvents(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void rejected(String key, Exception problem) {
      System.getLogger(LogsBadEvents.class.getName()).log(System.Logger.Level.DEBUG, problem::getMessage); // the bug
    }
  }

  /** The attack's find: the listener hears a build finish while the build still holds its permit. */
  static final class CallbackHoldsPermit extends Bulkheaded {
    CallbackHoldsPermit(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void finished(String key, Slot s, SimClient client, Throwable error) {
      try {
        listener.onBuildFinished(key, s.desired, 0, error); // the bug: before super gives the permit back
      } catch (RuntimeException | Error e) {
        // isolated: a listener never changes what the cache does
      }
      super.finished(key, s, client, error);
    }
  }

  /**
   * The gate's find: the client is served, then the permit's queued build starts on this thread,
   * telling the listener its key entered REBUILDING, and only then are the waiters answered.
   */
  static final class QueuedStartFirst extends Bulkheaded {
    QueuedStartFirst(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void answer(String key, Slot s) {
      drain(); // the bug: a queued build starts, and is told, before this build's waiters hear
      super.answer(key, s);
    }

    @Override
    void buildStarting(String key) {
      try {
        listener.onTransition(key, new Transition<>(EntryState.STALE, EntryEvent.BUILD_STARTED,
            EntryState.REBUILDING));
      } catch (RuntimeException | Error e) {
        // isolated: a listener never changes what the cache does
      }
    }
  }

  /** Item 9: Secret data compared by a 32-bit hash: "Aa" and "BB" look the same. */
  static final class HashComparingSource extends SimSource {
    HashComparingSource(int failedStarts) {
      super(failedStarts);
    }

    @Override
    protected boolean sameData(Map<String, String> a, Map<String, String> b) {
      return Objects.hash(a) == Objects.hash(b); // the bug
    }
  }
}
