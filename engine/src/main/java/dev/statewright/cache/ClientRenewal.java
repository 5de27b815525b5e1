package dev.statewright.cache;

import dev.statewright.lease.Lease;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * What happens to a served client without a factory call: its refresh and expiry timers (the
 * builder's {@code expiry} and {@code refreshAhead}, C12), and its reconfiguration in place (the
 * builder's {@link Reconfigurer}, C13). Each outcome is one update of the entry through Node's
 * moves ({@link Node#refreshDue}, {@link Node#expired}, {@link Node#reconfigured},
 * {@link Node#reconfigureFailed}).
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
final class ClientRenewal<K, S, C> {
  /*
   * Overview: afterUpdate is part of UpdateEffects: a node serving a new client with a lifetime
   * arms two timers; a node holding a new ReconfigureRun runs the reconfigurer on a scheduler
   * thread, with the build timeout as its bound.
   *
   * Concurrency: no state of its own. A timer names the client it was armed for and does nothing
   * if another is served by then (ServedClient identity); a reconfigure's outcome is applied only
   * if the entry still holds its run (ReconfigureRun identity), so a late outcome after a timeout,
   * a delete or an expiry changes nothing. The reconfigurer holds a lease on the client while it
   * runs, so the client is never closed under it (C6); it is user code, and whatever it throws is
   * its outcome.
   *
   * Transitions: none of its own (REFRESH_DUE, CLIENT_EXPIRED, RECONFIGURED,
   * RECONFIGURE_SUPERSEDED and RECONFIGURE_FAILED are Node's).
   *
   * Ordering of this file: fields, the effects, timers, the reconfigure call.
   */
  private final Reconfigurer<? super S, ? super C> reconfigurer; // null: RECONFIGURE rebuilds
  private final Scheduler scheduler;
  private final Duration timeout;
  private final EntryTable<K, S, C> table;

  ClientRenewal(Reconfigurer<? super S, ? super C> reconfigurer, Scheduler scheduler,
      Duration timeout, EntryTable<K, S, C> table) {
    this.reconfigurer = reconfigurer;
    this.scheduler = scheduler;
    this.timeout = timeout;
    this.table = table;
  }

  /** The effects of {@code prev -> next}: a newly served client's timers, a reconfigure to run. */
  void afterUpdate(Entry<K, S, C> entry, Node<K, S, C> prev, Node<K, S, C> next) {
    ServedClient<C> s = next.servedClient;
    if (s != null && (prev == null || prev.servedClient != s)) {
      arm(entry, s);
    }
    if (next.reconfigure() != null && (prev == null || prev.reconfigure() != next.reconfigure())) {
      scheduler.execute(() -> reconfigure(entry, next.reconfigure()));
    }
  }

  // ---------------------------------------------------------------- timers

  private void arm(Entry<K, S, C> entry, ServedClient<C> client) {
    if (client.refreshAt() != Served.NEVER) {
      at(client.refreshAt(), () -> {
        long now = scheduler.nanoTime();
        table.update(entry, n -> n.refreshDue(client, now));
      });
    }
    if (client.expiresAt() != Served.NEVER) {
      at(client.expiresAt(), () -> {
        long now = scheduler.nanoTime();
        table.update(entry, n -> n.expired(client, now));
      });
    }
  }

  private void at(long due, Runnable task) {
    scheduler.schedule(task, Duration.ofNanos(Math.max(0, due - scheduler.nanoTime())));
  }

  // ---------------------------------------------------------------- the reconfigure call

  /** Runs the reconfigurer on a scheduler thread; its outcome is one update, if still wanted. */
  private void reconfigure(Entry<K, S, C> entry, ReconfigureRun<S, C> run) {
    Scheduler.Cancellable timer = timeout.isZero() ? () -> { } : scheduler.schedule(
        () -> failed(entry, run, new TimeoutException("reconfiguring '" + entry.key
            + "' to version " + run.version + " exceeded the build timeout of " + timeout)),
        timeout);
    Throwable error = null;
    try (Lease<C> lease = run.client.resource.acquire("reconfigure")) {
      reconfigurer.reconfigure(lease.get(), run.spec);
      run.client.reflects(run.version); // what its leases' version() says from now on
    } catch (Throwable t) { // any Throwable, a released client's included: fall back to a rebuild
      error = t;
    } finally {
      timer.cancel();
    }
    if (error != null) {
      failed(entry, run, error);
    } else {
      table.update(entry, n -> n.reconfigure() == run ? n.reconfigured(run) : n);
    }
  }

  private void failed(Entry<K, S, C> entry, ReconfigureRun<S, C> run, Throwable error) {
    table.update(entry, n -> n.reconfigure() == run ? n.reconfigureFailed(run, error) : n);
  }
}
