package dev.statewright.cache;

import dev.statewright.internal.BuildEvent;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * Owns the bulkhead and the build runs: starts a build when an entry that wants one gets a permit,
 * calls the factory (on a scheduler thread for a blocking one), enforces the build timeout, and
 * hands each outcome back to the entry as one update ({@link Node#buildSucceeded},
 * {@link Node#buildFailed}). A late, abandoned result is closed unseen; every permit comes back
 * exactly once, when the call returns (C8), or passes to the next build of the same key.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
final class BuildLauncher<K, S, C> {
  /*
   * Overview: BuildGate queues entries that want a build and grants permits; `tryStart` turns a
   * permit into a BUILD_STARTED update carrying a new BuildRun, whose effects call `launch`. The
   * factory's stage completes `ended`, which records the outcome and applies it as one update.
   *
   * Concurrency: no lock. A BuildRun is identified by object identity; an outcome is applied only
   * if the entry still holds that run (`n.build() == run`), otherwise the run was abandoned (timed
   * out, superseded, deleted, closed) and its client is discarded. The permit is given back by
   * whoever wins BuildRun.returnPermit, once. Nothing thrown while applying an outcome may lose the
   * permit or leave the entry REBUILDING (`ended` catches Throwable and fails the build).
   *
   * No user callback holds a permit beyond the build timeout (DESIGN, Liveness; C8 counts calls):
   * the timeout is armed before the callbacks told before the call (the transition to REBUILDING,
   * onBuildStarted); the first effect of the update that takes a run out of the entry, before
   * that update's callbacks (closer, listeners, the waiters' dependents), gives its permit back if
   * its call returned (`left`) or was never made (`abandon`); a late client of a run given up
   * during its call is closed after its permit is back (`apply`); onBuildFinished is told last.
   * Queued builds a returned permit lets start start on a scheduler thread (BuildGate.release),
   * not on the releasing one: their own callbacks before the call (which may block, bounded for
   * the permit by their build timeout) never hold up the rest of the releasing update's effects.
   *
   * Hand-offs from an upsert to its served client (issue 13): one for a blocking factory (the
   * call handed to a scheduler worker, which then applies the outcome and answers the waiters on
   * its own thread), none for an asynchronous one (the outcome is applied on whichever thread
   * completes its stage). The timeout is cancelled after the outcome is applied, so the waiters
   * do not wait on the timer's queue.
   *
   * Transitions: those of BuildRun (its state word) and, for the entry, BUILD_STARTED ->
   * BUILD_SUCCEEDED | BUILD_SUPERSEDED | BUILD_FAILED, applied by Node's methods.
   *
   * Ordering of this file: fields, the gate, launching, the call, outcomes, retries and permits.
   */
  /** Exactly one of the two factories is set. */
  private final AsyncClientFactory<K, S, C> asyncFactory;
  private final ClientFactory<K, S, C> blockingFactory;
  private final Scheduler scheduler;
  private final Backoff backoff;
  private final Duration buildTimeout;
  private final ClientExpiry<S, C> expiry;
  private final UserCode<K, C> user;
  private final EntryTable<K, S, C> table;
  private final BuildGate gate;
  /** What the clients it builds share (the lease warning among it). */
  private final ServedClients<K, S, C> clients;

  BuildLauncher(AsyncClientFactory<K, S, C> asyncFactory, ClientFactory<K, S, C> blockingFactory,
      int maxConcurrentBuilds, Scheduler scheduler, Backoff backoff, Duration buildTimeout,
      ClientExpiry<S, C> expiry, UserCode<K, C> user, EntryTable<K, S, C> table,
      Duration leaseWarning) {
    this.asyncFactory = asyncFactory;
    this.blockingFactory = blockingFactory;
    this.scheduler = scheduler;
    this.backoff = backoff;
    this.buildTimeout = buildTimeout;
    this.expiry = expiry;
    this.user = user;
    this.table = table;
    this.clients = new ServedClients<>(scheduler, leaseWarning, user, table);
    this.gate = new BuildGate(maxConcurrentBuilds, this::tryStart, scheduler::execute);
  }

  // ---------------------------------------------------------------- the gate

  /** {@code entry} wants a build: it queues for a permit. */
  void request(Entry<K, S, C> entry) {
    gate.request(entry);
  }

  /** Bulkhead permits not held by a build. */
  int permitsAvailable() {
    return gate.available();
  }

  @SuppressWarnings("unchecked") // the gate only ever holds this cache's entries
  private boolean tryStart(Entry<?, ?, ?> queued) {
    Entry<K, S, C> entry = (Entry<K, S, C>) queued;
    return table.update(entry, n -> n.state() != EntryState.STALE || !n.buildWanted() ? n
        : n.buildStarted(newestBuild(n))).changed();
  }

  /** A build of the newest desired spec; every build builds that, never an older one (C3). */
  private BuildRun<S> newestBuild(Node<K, S, C> n) {
    return new BuildRun<>(n.desiredSpec, n.desiredVersion, n.desiredRevision, scheduler.nanoTime(),
        n.counts);
  }

  // ---------------------------------------------------------------- launching

  /**
   * The first effect of a node that holds a new {@code run}, before its transition is reported:
   * arms the build timeout, so that what the callbacks before the call (the transition to
   * REBUILDING, {@code onBuildStarted}) spend blocking counts against it, as the call's own time
   * does; a timeout before the call gives the permit back at once.
   */
  void armTimeout(Entry<K, S, C> entry, BuildRun<S> run) {
    if (!buildTimeout.isZero()) {
      run.timeout(scheduler.schedule(() -> timedOut(entry, run), buildTimeout));
    }
  }

  /** The effects of a node that holds a new {@code run}: call the factory. */
  void launch(Entry<K, S, C> entry, BuildRun<S> run) {
    if (run.isAbandoned()) {
      return; // abandoned before it started: whoever abandoned it gave the permit back
    }
    user.tell(l -> l.onBuildStarted(entry.key, run.version));
    if (!run.beginLaunch()) { // abandoned while the listener ran (timed out, superseded, ...)
      returnPermit(run); // whoever abandoned it may not have yet: the listener hears it back
      user.tell(l -> l.onBuildFinished(entry.key, run.version,
          scheduler.nanoTime() - run.startNanos, new CancellationException("the build of '"
              + entry.key + "' at version " + run.version + " was given up before its call")));
      return;
    }
    BuildEvent jfr = new BuildEvent();
    jfr.begin();
    CompletableFuture<C> stage = call(entry.key, run);
    run.launched(blockingFactory == null ? stage : null); // a blocking call is interrupted instead
    BiConsumer<C, Throwable> outcome = (client, error) -> ended(entry, run, jfr, client, error);
    if (blockingFactory == null) {
      stage.whenComplete(outcome); // a stage the factory completed itself: its own thread's doing
    } else {
      onWorker(stage, outcome);
    }
  }

  /**
   * Runs {@code outcome} on the worker that completes {@code result}, or, if the worker finished
   * before this thread attached it, on the scheduler: never on this thread, which may be a caller
   * of upsert that the outcome's user code (expiry, listener, closer) must not hold up.
   */
  private void onWorker(CompletableFuture<C> result, BiConsumer<C, Throwable> outcome) {
    AtomicBoolean attached = new AtomicBoolean();
    result.whenComplete((client, error) -> {
      if (attached.get()) {
        outcome.accept(client, error);
        return;
      }
      try {
        scheduler.execute(() -> outcome.accept(client, error));
      } catch (RuntimeException rejected) { // a user's scheduler that refuses: here, then
        outcome.accept(client, error);
      }
    });
    attached.set(true);
  }

  /** Gives {@code run} up; its permit comes back now if the factory was never called. */
  void abandon(BuildRun<S> run) {
    if (run.abandon()) {
      returnPermit(run);
    }
  }

  // ---------------------------------------------------------------- the call

  private CompletableFuture<C> call(K key, BuildRun<S> run) {
    if (blockingFactory == null) {
      try {
        return asyncFactory.build(key, run.spec).toCompletableFuture();
      } catch (Throwable t) { // any Throwable, a StackOverflowError included, fails this build
        return CompletableFuture.failedFuture(t);
      }
    }
    CompletableFuture<C> result = new CompletableFuture<>();
    scheduler.execute(() -> runBlocking(key, run, result));
    return result;
  }

  /** A blocking factory runs on a scheduler thread, interruptible by abandonment. */
  private void runBlocking(K key, BuildRun<S> run, CompletableFuture<C> result) {
    boolean wasInterrupted = Thread.currentThread().isInterrupted();
    if (!run.enter()) {
      result.cancel(false); // abandoned before it started
      return;
    }
    try {
      C client = blockingFactory.build(key, run.spec);
      if (!result.complete(client)) {
        user.discard(client); // abandoned while it ran: the late client is closed unseen
      }
    } catch (Throwable t) { // any Throwable, a StackOverflowError included, fails this build
      result.completeExceptionally(t);
    } finally {
      run.exit(wasInterrupted);
    }
  }

  // ---------------------------------------------------------------- outcomes

  /**
   * The build's call ended; nothing thrown here may lose its permit or leave it REBUILDING. Its
   * timeout is cancelled after the outcome is applied, so its waiters are answered without first
   * going through the timer's queue. A timeout that fires meanwhile races the outcome's update as
   * it raced the cancel before: the first update wins, the other finds the run gone. The listener
   * hears of it last, once the permit is back and the timeout cancelled, so a listener that blocks
   * holds no permit and its time is not counted against the build.
   */
  private void ended(Entry<K, S, C> entry, BuildRun<S> run, BuildEvent jfr, C built,
      Throwable failure) {
    run.ended();
    long nanos = scheduler.nanoTime() - run.startNanos;
    Throwable error = failure instanceof CompletionException ? failure.getCause() : failure;
    if (error == null && built == null) {
      error = new NullPointerException("factory returned null for '" + entry.key
          + "' at version " + run.version);
    }
    try {
      applyOutcome(entry, run, jfr, built, error);
    } finally {
      run.cancelTimeout();
    }
    Throwable outcome = error;
    user.tell(l -> l.onBuildFinished(entry.key, run.version, nanos, outcome));
  }

  private void applyOutcome(Entry<K, S, C> entry, BuildRun<S> run, BuildEvent jfr, C built,
      Throwable failure) {
    try {
      C client = built; // null whenever failure is not
      Throwable error = failure;
      long[] term = null;
      if (error == null) {
        try {
          term = expiry.termOf(entry.key, run.version, run.spec, client, scheduler.nanoTime());
        } catch (IllegalStateException noLifetime) { // a client of unknown lifetime is not served
          user.discard(client);
          client = null;
          error = noLifetime;
        }
      }
      recordBuild(jfr, entry.key, run.version, error);
      apply(entry, run, client, error, term);
    } catch (Throwable t) {
      user.log(System.Logger.Level.ERROR, "finishing the build of '" + entry.key + "' failed", t);
      try {
        table.update(entry, n -> n.build() == run ? failed(n, run, t) : n);
      } finally {
        returnPermit(run); // a no-op if it passed to the next build
      }
    }
  }

  /** The outcome, as one update of the entry that still holds {@code run}. */
  private void apply(Entry<K, S, C> entry, BuildRun<S> run, C client, Throwable error,
      long[] term) {
    EntryTable.Update<K, S, C> u = table.update(entry, n -> n.build() != run ? n
        : error == null ? succeeded(entry, n, run, client, term) : failed(n, run, error));
    returnPermit(run); // a no-op if the update's effects gave it back or passed it on (left)
    if (!u.changed()) { // deleted, closed or timed out meanwhile: the closer holds no permit
      user.discard(client);
    }
  }

  private Node<K, S, C> succeeded(Entry<K, S, C> entry, Node<K, S, C> n, BuildRun<S> run,
      C client, long[] term) {
    ServedClient<C> served =
        new ServedClient<>(n.counts, client, n.versionServedBy(run), term, clients);
    BuildRun<S> next = run.revision == n.desiredRevision ? null : newestBuild(n);
    return n.buildSucceeded(run, served, next);
  }

  private Node<K, S, C> failed(Node<K, S, C> n, BuildRun<S> run, Throwable error) {
    long retryAt = !n.retriesAfter(run) ? 0 : scheduler.nanoTime()
        + Math.max(1, backoff.delay(n.failures() + 1, scheduler.random()).toNanos());
    return n.buildFailed(run, error, retryAt);
  }

  private void timedOut(Entry<K, S, C> entry, BuildRun<S> run) {
    TimeoutException error = new TimeoutException("build of '" + entry.key + "' at version "
        + run.version + " exceeded the build timeout of " + buildTimeout);
    table.update(entry, n -> n.build() == run ? failed(n, run, error) : n); // effects abandon it
  }

  private static void recordBuild(BuildEvent jfr, Object key, long version, Object outcome) {
    if (jfr.shouldCommit()) {
      jfr.key = String.valueOf(key);
      jfr.version = version;
      jfr.outcome = outcome == null ? "built" : String.valueOf(outcome);
      jfr.commit();
    }
  }

  // ---------------------------------------------------------------- retries and permits

  /** The effects of a failure: the entry wants a build again at {@code due}. */
  void retryAt(Entry<K, S, C> entry, long due) {
    scheduler.schedule(() -> table.update(entry, n -> n.retryDue(due)),
        Duration.ofNanos(Math.max(0, due - scheduler.nanoTime())));
  }

  /**
   * The first effect of an update that took {@code left} out of the entry (for {@code now}, which
   * may be null): once its call has returned, its permit comes back now, before the update's
   * callbacks run (C8 counts calls, not callbacks), or passes to {@code now}, a build of the same
   * key that the outcome's update started with it (BUILD_SUPERSEDED).
   */
  void left(BuildRun<S> left, BuildRun<S> now) {
    if (left == null || left == now || !left.hasEnded()) {
      return;
    }
    if (now != null) {
      left.returnPermit(); // passes on
    } else {
      returnPermit(left);
    }
  }

  /**
   * Gives the permit of {@code run} back, once; queued builds start with it on a scheduler thread,
   * not behind this thread's remaining callbacks (BuildGate.release).
   */
  private void returnPermit(BuildRun<S> run) {
    if (run.returnPermit()) {
      gate.release();
    }
  }
}
