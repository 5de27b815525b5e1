package dev.statewright.cache;

import dev.statewright.time.Scheduler;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;

/**
 * One call of the factory, identified by object identity. Carries what it builds and two small
 * protocols: the bulkhead permit, given back exactly once, and, for a blocking factory, the
 * interrupt handshake that lets a timed-out build be abandoned without leaving an interrupt on a
 * pooled thread. An asynchronous factory's stage is cancelled instead.
 */
final class BuildRun<S> {
  /*
   * Runner transitions (one word, CAS only):
   *   NEW -> RUNNING -> DONE                       the factory returned in time
   *   NEW -> ABANDONED                             timed out before the factory was called
   *   RUNNING -> INTERRUPTING -> ABANDONED         timed out while the factory ran
   * A worker that loses the RUNNING -> DONE race waits (a few instructions) for ABANDONED and
   * then clears its interrupt flag, so the interrupt never leaks to the pool's next task.
   *
   * Launch transitions (a second word): NEW -> LAUNCHING -> LAUNCHED, or NEW -> ABANDONED. An
   * abandon that finds the factory being called waits for the call to return (an asynchronous
   * factory returns promptly) and then cancels its stage, so a removed key's build never
   * overlaps its re-add's.
   */
  private static final int NEW = 0;
  private static final int RUNNING = 1;
  private static final int DONE = 2;
  private static final int INTERRUPTING = 3;
  private static final int ABANDONED = 4;
  private static final int LAUNCHING = 1;
  private static final int LAUNCHED = 2;
  private static final VarHandle RUNNER;
  private static final VarHandle PERMIT;
  private static final VarHandle LAUNCH;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      RUNNER = lookup.findVarHandle(BuildRun.class, "runner", int.class);
      PERMIT = lookup.findVarHandle(BuildRun.class, "permitHeld", boolean.class);
      LAUNCH = lookup.findVarHandle(BuildRun.class, "launch", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final S spec;
  final long version;
  final long revision;
  final long startNanos;
  private volatile Thread thread;
  private volatile CompletableFuture<?> stage;
  private volatile Scheduler.Cancellable timeout = () -> { };
  @SuppressWarnings("unused") // accessed through RUNNER
  private volatile int runner;
  @SuppressWarnings("unused") // accessed through PERMIT
  private volatile boolean permitHeld = true;
  @SuppressWarnings("unused") // accessed through LAUNCH
  private volatile int launch;

  BuildRun(S spec, long version, long revision, long startNanos) {
    this.spec = spec;
    this.version = version;
    this.revision = revision;
    this.startNanos = startNanos;
  }

  void timeout(Scheduler.Cancellable timeout) {
    this.timeout = timeout;
  }

  /** The build completed: its timeout has nothing left to do. */
  void completed() {
    timeout.cancel();
  }

  /** Claims the right to call the factory; false if the build was abandoned first. */
  boolean beginLaunch() {
    return LAUNCH.compareAndSet(this, NEW, LAUNCHING);
  }

  /** The factory returned {@code result}; cancelled if the build is abandoned. */
  void launched(CompletableFuture<?> result) {
    this.stage = result;
    launch = LAUNCHED;
  }

  /** Called by the worker before the factory; false if the build was abandoned already. */
  boolean enter() {
    thread = Thread.currentThread();
    return RUNNER.compareAndSet(this, NEW, RUNNING);
  }

  /** Called by the worker after the factory; clears an interrupt meant for the factory alone. */
  void exit() {
    if (RUNNER.compareAndSet(this, RUNNING, DONE)) {
      return;
    }
    while (runner != ABANDONED) {
      Thread.onSpinWait();
    }
    Thread.interrupted(); // the abandoning thread's interrupt was meant for the factory only
  }

  /** Gives the build up: cancels its stage and interrupts a blocking factory. Idempotent. */
  void abandon() {
    timeout.cancel();
    if (LAUNCH.compareAndSet(this, NEW, ABANDONED)) {
      return; // the factory will not be called
    }
    while (launch == LAUNCHING) {
      Thread.onSpinWait();
    }
    CompletableFuture<?> result = stage;
    if (result != null) {
      result.cancel(true);
    }
    if (RUNNER.compareAndSet(this, NEW, ABANDONED)) {
      return;
    }
    if (RUNNER.compareAndSet(this, RUNNING, INTERRUPTING)) {
      thread.interrupt();
      runner = ABANDONED;
    }
  }

  /** Whether the factory's stage has completed (normally, exceptionally or by cancellation). */
  boolean finished() {
    CompletableFuture<?> result = stage;
    return result != null && result.isDone();
  }

  /** True exactly once: for whoever gives the bulkhead permit back. */
  boolean returnPermit() {
    return PERMIT.compareAndSet(this, true, false);
  }
}
