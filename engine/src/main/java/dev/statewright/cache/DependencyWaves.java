package dev.statewright.cache;

import dev.statewright.time.Scheduler;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The rebuild waves of a cache whose {@link Wave} is not {@link Wave#all()}: one running wave per
 * dependency, which rebuilds the wave's canaries first and, once every one of them serves, the
 * other dependents at the wave's rate; a failed canary stops it (C14).
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
final class DependencyWaves<K, S, C> {
  /*
   * Overview: start(dependency) replaces the dependency's running wave, if any, by a new one
   * (Rollout). A rollout releases keys one at a time through `rebuild` (the same per-key move as
   * Wave.all(): DEPENDENCY_CHANGED and a waiter for the build after it) and follows each released
   * key's future: first its canaries, then, in fixed windows of `per` on the scheduler, at most
   * `builds` keys per window. A key that is gone (deleted, or no longer reading the dependency) is
   * skipped and uses no token; a released key deleted before it serves counts as settled.
   *
   * Concurrency: every field of every rollout is guarded by this object's monitor, which is held
   * only to decide (which key next, which phase now); every update of an entry, every future
   * completion and every scheduling happens after leaving it, so no user code (listeners, a
   * synchronous factory completing a future) ever runs under it. A future may complete on the
   * thread that releases its key, inside `rebuild`; `track` counts the key before it listens.
   *
   * Transitions of a rollout (guarded by this):
   *   CANARIES -> RATE        every canary served (or none was released)
   *   CANARIES -> STOPPED     a canary failed: the keys not released keep their clients (terminal)
   *   CANARIES | RATE -> SUPERSEDED   a newer change of the same dependency (terminal)
   *   RATE -> DONE            every key released and settled (terminal)
   *   CANARIES | RATE -> DONE the cache closed (terminal)
   *
   * Ordering of this file: fields, start, the rollout in order of its phases.
   */

  /** Releases one dependent for a change of a dependency. */
  @FunctionalInterface
  interface Rebuild<K, S, C> {
    /** Marks {@code entry} stale for {@code dependency}; its future, or null if it does not read it. */
    CompletableFuture<?> mark(Entry<K, S, C> entry, Object dependency);
  }

  private enum Phase { CANARIES, RATE, STOPPED, SUPERSEDED, DONE }

  private final Wave wave;
  private final Scheduler scheduler;
  private final EntryTable<K, S, C> table;
  private final Rebuild<K, S, C> rebuild;
  /** The running wave of each dependency. Guarded by this. */
  private final Map<Object, Rollout> running = new HashMap<>();

  DependencyWaves(Wave wave, Scheduler scheduler, EntryTable<K, S, C> table,
      Rebuild<K, S, C> rebuild) {
    this.wave = wave;
    this.scheduler = scheduler;
    this.table = table;
    this.rebuild = rebuild;
  }

  /**
   * A wave over {@code dependents} for a change of {@code dependency}, superseding the one running:
   * the keys that one left mid-rebuild are this wave's first canaries.
   */
  CompletableFuture<Void> start(Object dependency, Collection<K> dependents) {
    Rollout next = new Rollout(dependency);
    Rollout prev;
    synchronized (this) {
      prev = running.put(dependency, next);
      Set<K> order = new LinkedHashSet<>(prev == null ? List.of() : prev.supersede());
      next.canaries = Math.max(wave.canaries(), order.size());
      order.addAll(dependents);
      next.pending.addAll(order);
    }
    if (prev != null) {
      next.result.whenComplete((v, error) -> {
        if (error == null) {
          prev.result.complete(null);
        } else {
          prev.result.completeExceptionally(error);
        }
      });
    }
    next.releaseCanaries();
    return next.result;
  }

  /** One wave: the rebuild of one dependency's dependents after one change. */
  private final class Rollout {
    final Object dependency;
    final CompletableFuture<Void> result = new CompletableFuture<>();
    /** Keys not released yet, canaries first. Guarded by DependencyWaves.this, as all below. */
    final ArrayDeque<K> pending = new ArrayDeque<>();
    /** Released keys whose future has not completed. */
    final Set<K> unsettled = new LinkedHashSet<>();
    Phase phase = Phase.CANARIES;
    int canaries;
    boolean canariesReleased;
    boolean allReleased;
    /** The first error of a key released after the canaries; the wave goes on. */
    Throwable firstError;

    Rollout(Object dependency) {
      this.dependency = dependency;
    }

    // ------------------------------------------------------------ canaries

    void releaseCanaries() {
      int released = 0;
      while (released < canaries) {
        Entry<K, S, C> entry = nextEntry(Phase.CANARIES);
        if (entry == null) {
          break;
        }
        released += release(entry) ? 1 : 0;
      }
      boolean rate;
      synchronized (DependencyWaves.this) {
        canariesReleased = true;
        rate = canariesServed();
      }
      if (rate) {
        releaseWindow();
      }
    }

    /** Whether the canary phase is over; if so, now RATE. Holds the lock. */
    private boolean canariesServed() {
      if (phase == Phase.CANARIES && canariesReleased && unsettled.isEmpty()) {
        phase = Phase.RATE;
        return true;
      }
      return false;
    }

    // ------------------------------------------------------------ the rest, at the rate

    /** Releases up to {@code builds} keys (all, without a rate), then waits for the next window. */
    void releaseWindow() {
      int quota = wave.per().isPresent() ? wave.builds() : Integer.MAX_VALUE;
      int released = 0;
      while (released < quota) {
        Entry<K, S, C> entry = nextEntry(Phase.RATE);
        if (entry == null) {
          break;
        }
        released += release(entry) ? 1 : 0;
      }
      boolean more;
      boolean done;
      synchronized (DependencyWaves.this) {
        more = phase == Phase.RATE && !pending.isEmpty();
        allReleased = phase == Phase.RATE && pending.isEmpty();
        done = finished();
      }
      if (more) {
        scheduler.schedule(this::releaseWindow, wave.per().orElseThrow());
      }
      if (done) {
        complete();
      }
    }

    /** The entry of the next pending key while in {@code phase}; null when none or the phase ended. */
    private Entry<K, S, C> nextEntry(Phase in) {
      while (true) {
        K key;
        boolean closed = table.closed();
        synchronized (DependencyWaves.this) {
          if (phase != in) {
            return null;
          }
          if (closed) {
            phase = Phase.DONE;
            running.remove(dependency, this);
          }
          key = closed ? null : pending.poll();
        }
        if (closed) {
          result.completeExceptionally(table.missing(dependency, null));
          return null;
        }
        if (key == null) {
          return null;
        }
        Entry<K, S, C> entry = table.get(key);
        if (entry != null) {
          return entry;
        }
      }
    }

    /** Marks {@code entry} stale and follows its future; false if it no longer reads the dependency. */
    private boolean release(Entry<K, S, C> entry) {
      CompletableFuture<?> future = rebuild.mark(entry, dependency);
      if (future == null) {
        return false;
      }
      synchronized (DependencyWaves.this) {
        unsettled.add(entry.key);
      }
      future.whenComplete((v, error) -> settled(entry, error));
      return true;
    }

    // ------------------------------------------------------------ settling

    private void settled(Entry<K, S, C> entry, Throwable error) {
      boolean failed = error != null && entry.node().isLive(); // a deleted key is skipped
      boolean stop = false;
      boolean rate = false;
      boolean done = false;
      List<K> held = List.of();
      synchronized (DependencyWaves.this) {
        unsettled.remove(entry.key);
        if (failed && phase == Phase.CANARIES) {
          phase = Phase.STOPPED;
          running.remove(dependency, this);
          held = new ArrayList<>(pending);
          pending.clear();
          stop = true;
        } else {
          if (failed && firstError == null) {
            firstError = error;
          }
          rate = canariesServed();
          done = finished();
        }
      }
      if (stop) {
        holdBack(held, error);
      } else if (rate) {
        releaseWindow();
      } else if (done) {
        complete();
      }
    }

    /** The keys a failed canary kept from rebuilding record its error; the wave fails with it. */
    private void holdBack(List<K> held, Throwable error) {
      for (K key : held) {
        Entry<K, S, C> entry = table.get(key);
        if (entry != null) {
          table.update(entry, n -> n.isLive() && n.dependencies.contains(dependency)
              ? n.heldBack(error) : n);
        }
      }
      result.completeExceptionally(error);
    }

    /** Whether every key is released and settled; if so, now DONE. Holds the lock. */
    private boolean finished() {
      if (phase == Phase.RATE && allReleased && unsettled.isEmpty()) {
        phase = Phase.DONE;
        running.remove(dependency, this);
        return true;
      }
      return false;
    }

    private void complete() {
      Throwable error;
      synchronized (DependencyWaves.this) {
        error = firstError;
      }
      if (error == null) {
        result.complete(null);
      } else {
        result.completeExceptionally(error);
      }
    }

    /** A newer change of the dependency takes over: the keys released and not yet settled. */
    List<K> supersede() {
      assert Thread.holdsLock(DependencyWaves.this);
      if (phase == Phase.CANARIES || phase == Phase.RATE) {
        phase = Phase.SUPERSEDED;
        return new ArrayList<>(unsettled);
      }
      return List.of();
    }
  }
}
