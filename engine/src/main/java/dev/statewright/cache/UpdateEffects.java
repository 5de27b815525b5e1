package dev.statewright.cache;

import dev.statewright.internal.TransitionEvent;
import dev.statewright.lifecycle.Transition;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.List;

/**
 * The effects of one update, run exactly once by the thread whose CAS installed the new node, and
 * derived only from the two nodes: letting go of the builds the entry no longer holds (the permit
 * of one whose call returned comes back, one still running is abandoned) and arming a new build's
 * timeout (both before any user code), announcing the transition, retiring a replaced client,
 * launching or queueing a build, scheduling a retry, arming a new client's refresh and expiry
 * timers and running a reconfigurer (ClientRenewal), answering waiters, keeping the dependency
 * index, purging a tombstone later and telling dependents.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
final class UpdateEffects<K, S, C> {
  /*
   * Overview: `afterUpdate` is the second half of ClientCache's update core (the first is the
   * CAS). Because f is pure and may run more than once, nothing f decides happens until here.
   *
   * Concurrency: runs on the thread that won the CAS, outside any lock; user code it reaches
   * (listeners, an asynchronous factory, a closer) is isolated. Effects may cause further updates
   * (a build that completes at once, dependents, a close racing an insert); each of those runs
   * its own effects after its own CAS. Two updates of one entry may run their effects
   * concurrently, so each effect is idempotent or owned by one CAS (abandon, retire and
   * returnPermit are CAS-guarded; a launch happens for the node that first holds a run).
   *
   * Transitions: none of its own.
   *
   * Ordering of this file: fields, afterUpdate in the order it runs its effects, their parts.
   */
  private static final System.Logger LOG = System.getLogger("dev.statewright.cache.ClientCache");

  private final EntryTable<K, S, C> table;
  private final UserCode<K, C> user;
  private final DependencyIndex<K> index;
  private final BuildLauncher<K, S, C> launcher;
  private final EventIntake<K, S, C> intake;
  private final ClientRenewal<K, S, C> renewal;
  private final Scheduler scheduler;
  private final Duration tombstoneRetention;

  UpdateEffects(EntryTable<K, S, C> table, UserCode<K, C> user, DependencyIndex<K> index,
      BuildLauncher<K, S, C> launcher, EventIntake<K, S, C> intake, ClientRenewal<K, S, C> renewal,
      Scheduler scheduler, Duration tombstoneRetention) {
    this.table = table;
    this.user = user;
    this.index = index;
    this.launcher = launcher;
    this.intake = intake;
    this.renewal = renewal;
    this.scheduler = scheduler;
    this.tombstoneRetention = tombstoneRetention;
  }

  /**
   * The effects of one update, run once after its CAS, derived from the two nodes; {@code reborn}:
   * {@code entry} is a new incarnation of its key ({@code prev}, if any, a tombstone of the old).
   */
  void afterUpdate(Entry<K, S, C> entry, Node<K, S, C> prev, Node<K, S, C> next,
      List<Waiter<K, S, C>> settled, boolean reborn) {
    K key = entry.key;
    if (prev != null) { // before any user code: no build that left the entry holds its permit
      leave(prev, next, reborn);
    }
    if (reborn && next.isLive() && table.closed()) { // close() may have passed this key already:
      table.update(entry, Node::removedIfLive); // it goes before anything of it runs
      return;
    }
    if (next.build() != null && (prev == null || next.build() != prev.build())) {
      launcher.armTimeout(entry, next.build()); // before the transition's listener
    }
    if (next.isLive() && (prev == null || !prev.isLive())) { // user code may remove it
      index.add(key, next.dependencies);
    } else if (next.isLive() && prev.dependencies != next.dependencies) {
      index.changed(key, prev.dependencies, next.dependencies);
    }
    if (next.cause() != null && prev != null) {
      emit(key, new Transition<>(prev.state(), next.cause(), next.state()),
          next.cause() == EntryEvent.BUILD_FAILED || next.cause() == EntryEvent.RECONFIGURE_FAILED
              ? next.lastError() : null);
    }
    endPrevious(prev, next);
    startNext(entry, prev, next, reborn);
    renewal.afterUpdate(entry, prev, next); // expiry timers of a new client, a reconfigure to run
    settleWaiters(entry, prev, next, settled);
    if (!next.isLive()) {
      if (prev != null && prev.isLive()) {
        index.remove(key, prev.dependencies);
      }
      if (reborn || prev.isLive() && !table.closed()) {
        scheduler.schedule(() -> table.forget(entry), tombstoneRetention);
        if (!reborn) {
          intake.invalidateDependents(key);
        }
      }
    } else if (reborn || next.cause() == EntryEvent.SPEC_CHANGED
        || next.cause() == EntryEvent.METADATA_CHANGED
        || next.cause() == EntryEvent.RECONFIGURE_STARTED) {
      if (next.cause() == EntryEvent.SPEC_CHANGED) {
        intake.supersedeOverdueBuild(entry);
      }
      intake.invalidateDependents(key);
    }
  }

  /**
   * The builds {@code next} no longer holds: one whose call returned gives its permit back (or on
   * to the build that follows it); one still running is abandoned (C1): cancelled or interrupted,
   * its permit back at once if its factory was never called, else when the call returns.
   */
  private void leave(Node<K, S, C> prev, Node<K, S, C> next, boolean reborn) {
    launcher.left(prev.build(), next.build());
    if (prev.build() != null && prev.build() != next.build() && !prev.build().hasEnded()) {
      launcher.abandon(prev.build()); // timed out, superseded or removed
    }
    if (reborn && prev.displaced() != null && prev.displaced() != next.displaced()) {
      launcher.abandon(prev.displaced()); // the removed incarnation's build, before any new one
    }
  }

  /** Retires a replaced client (C6): tells its leases; closed when its last lease closes. */
  private void endPrevious(Node<K, S, C> prev, Node<K, S, C> next) {
    if (prev != null && prev.servedClient != null && next.servedClient != prev.servedClient) {
      prev.servedClient.supersede();
    }
  }

  /** Launches a new build, queues an entry that now wants one, schedules a retry. */
  private void startNext(Entry<K, S, C> entry, Node<K, S, C> prev, Node<K, S, C> next,
      boolean reborn) {
    if (next.build() != null && (prev == null || next.build() != prev.build())) {
      launcher.launch(entry, next.build());
    }
    if (next.state() == EntryState.STALE && next.buildWanted()
        && !(prev != null && prev.state() == EntryState.STALE && prev.buildWanted())) {
      if (reborn && prev != null && prev.displaced() != null) {
        // the removed incarnation's factory call, if being made right now, returns (and its
        // stage is cancelled) before ours starts, so the two never overlap (C1); nobody waits
        prev.displaced().afterLaunch(() -> launcher.request(entry));
      } else {
        launcher.request(entry);
      }
    }
    long retry = next.nextRetryNanos();
    if (retry != 0 && (prev == null || retry != prev.nextRetryNanos())) {
      launcher.retryAt(entry, retry);
    }
  }

  private void settleWaiters(Entry<K, S, C> entry, Node<K, S, C> prev, Node<K, S, C> next,
      List<Waiter<K, S, C>> settled) {
    Snapshot<K, S, C> view = settled.isEmpty() ? null : next.viewForWaiters(); // one for all
    for (Waiter<K, S, C> w : settled) {
      if (!w.isDone()) {
        w.serve(next.servedClient, view);
      }
    }
    if (prev == null) {
      return;
    }
    for (Waiter<K, S, C> w : prev.waiters()) {
      if (!next.waiters().contains(w) && !settled.contains(w)) {
        if (next.isLive()) {
          w.buildFailed(next.lastError());
        } else {
          w.fail(table.missing(entry.key, entry));
        }
      }
    }
  }

  private void emit(K key, Transition<EntryState, EntryEvent> t, Throwable error) {
    TransitionEvent.emit(Node.LIFECYCLE.name(), key, t.from(), t.event(), t.to());
    LOG.log(error == null ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
        () -> user.cacheName + " '" + key + "': " + t + (error == null ? "" : " (" + error + ")"));
    user.tell(l -> l.onTransition(key, t));
  }
}
