package dev.statewright.cache;

import dev.statewright.time.Scheduler;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One call of the factory, identified by object identity. Carries what it builds and three small
 * protocols: the factory call (launched, ended, perhaps abandoned on the way, counted while an
 * abandoned call still runs), the bulkhead permit, given back exactly once, and, for a blocking
 * factory, the interrupt handshake that lets an abandoned build be interrupted without leaving
 * an interrupt on a pooled thread. An asynchronous factory's stage is cancelled instead.
 */
final class BuildRun<S> {
  /*
   * Overview: the call word says where the factory call is; its ABANDONED bit says the entry gave
   * the build up. The permit is held from BUILD_STARTED until the call ends (C8 counts abandoned
   * calls still running: the bulkhead protects what the factory calls), unless it passes on to
   * the next build of the same key.
   *
   * Concurrency: no method waits for another thread. abandon() may run on any thread, including
   * inside the factory call itself (a factory that deletes its key or closes the cache): when it
   * finds the call LAUNCHING it only sets ABANDONED, and launched() cancels the stage when the
   * call returns. The runner handshake's only spin (exit) covers the abandoning thread's own two
   * instructions between INTERRUPTING and ABANDONED, as in FutureTask.
   *
   * Transitions of the call word (CAS only; A is the ABANDONED bit):
   *   NEW -> LAUNCHING -> LAUNCHED -> ENDED        the factory was called and its stage completed
   *   NEW -> NEW|A                                 abandoned before the call: never called
   *   LAUNCHING -> LAUNCHING|A -> LAUNCHED|A       abandoned during the call; launched() cancels
   *   LAUNCHED -> LAUNCHED|A -> ENDED|A            abandoned while running; counted until it ends
   *   ENDED -> ENDED|A                             abandoned after it ended: nothing to do
   * Runner transitions (blocking factories only, a second word):
   *   NEW -> RUNNING -> DONE                       the factory returned first
   *   NEW -> ABANDONED                             abandoned before the worker called the factory
   *   RUNNING -> INTERRUPTING -> ABANDONED         abandoned while the factory ran
   *
   * Ordering of this file: constants, fields, the call, the runner handshake, the permit.
   */
  private static final int NEW = 0;
  private static final int LAUNCHING = 1;
  private static final int LAUNCHED = 2;
  private static final int ENDED = 3;
  private static final int A = 4;
  private static final int RUNNING = 1;
  private static final int DONE = 2;
  private static final int INTERRUPTING = 3;
  private static final int ABANDONED = 4;
  /** Marks {@link #afterLaunch} as spent: the call has returned. */
  private static final Runnable LAUNCH_RETURNED = () -> { };
  private static final VarHandle CALL;
  private static final VarHandle RUNNER;
  private static final VarHandle PERMIT;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      CALL = lookup.findVarHandle(BuildRun.class, "call", int.class);
      RUNNER = lookup.findVarHandle(BuildRun.class, "runner", int.class);
      PERMIT = lookup.findVarHandle(BuildRun.class, "permitHeld", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final S spec;
  final long version;
  final long revision;
  final long startNanos;
  /** Abandoned calls of this key (all its incarnations) that have not returned yet. */
  private final AtomicInteger abandonedRunning;
  private volatile Thread thread;
  /** The stage to cancel on abandonment; null for a blocking factory, which is interrupted. */
  private volatile CompletableFuture<?> stage;
  private volatile Scheduler.Cancellable timeout = () -> { };
  /** What waits for the factory call to return (a re-added key's first build), then spent. */
  private final AtomicReference<Runnable> afterLaunch = new AtomicReference<>();
  @SuppressWarnings("unused") // accessed through CALL
  private volatile int call;
  @SuppressWarnings("unused") // accessed through RUNNER
  private volatile int runner;
  @SuppressWarnings("unused") // accessed through PERMIT
  private volatile boolean permitHeld = true;

  BuildRun(S spec, long version, long revision, long startNanos, AtomicInteger abandonedRunning) {
    this.spec = spec;
    this.version = version;
    this.revision = revision;
    this.startNanos = startNanos;
    this.abandonedRunning = abandonedRunning;
  }

  void timeout(Scheduler.Cancellable timeout) {
    this.timeout = timeout;
  }

  // ---------------------------------------------------------------- the call

  /** Claims the right to call the factory; false if the build was abandoned first. */
  boolean beginLaunch() {
    return CALL.compareAndSet(this, NEW, LAUNCHING);
  }

  /**
   * The factory returned; {@code cancellable} is the stage to cancel on abandonment (null for a
   * blocking factory). Finishes an abandonment that happened during the call.
   */
  void launched(CompletableFuture<?> cancellable) {
    this.stage = cancellable;
    if (!CALL.compareAndSet(this, LAUNCHING, LAUNCHED)) {
      CALL.setVolatile(this, LAUNCHED | A); // abandoned during the call: only we move on from here
      cancel();
    }
    Runnable next = afterLaunch.getAndSet(LAUNCH_RETURNED);
    if (next != null) {
      next.run();
    }
  }

  /**
   * Runs {@code next} once the factory call has returned: at once unless it is being made now
   * (on another thread, or further up this one), else when it returns. Never waits.
   */
  void afterLaunch(Runnable next) {
    if (((int) CALL.getVolatile(this) & ~A) != LAUNCHING || !afterLaunch.compareAndSet(null, next)) {
      next.run();
    }
  }

  /** The call's stage completed. True if the build had been abandoned (its result is unwanted). */
  boolean ended() {
    timeout.cancel();
    for (;;) {
      int c = (int) CALL.getVolatile(this);
      if (CALL.compareAndSet(this, c, (c & A) | ENDED)) {
        if (c == (LAUNCHED | A)) {
          abandonedRunning.decrementAndGet();
        }
        return (c & A) != 0;
      }
    }
  }

  /** Whether the call's stage has completed. */
  boolean hasEnded() {
    return ((int) CALL.getVolatile(this) & ~A) == ENDED;
  }

  /**
   * Gives the build up: cancels its stage or interrupts a blocking factory. Idempotent; never
   * waits. True if the factory was never called, so the caller gives the permit back (otherwise
   * the end of the call does).
   */
  boolean abandon() {
    timeout.cancel();
    for (;;) {
      int c = (int) CALL.getVolatile(this);
      if ((c & A) != 0) {
        return false;
      }
      boolean running = c == LAUNCHING || c == LAUNCHED;
      if (running) {
        abandonedRunning.incrementAndGet(); // before the CAS, so the count never goes below 0
      }
      if (CALL.compareAndSet(this, c, c | A)) {
        if (c == LAUNCHED) {
          cancel();
        }
        return c == NEW;
      }
      if (running) {
        abandonedRunning.decrementAndGet();
      }
    }
  }

  private void cancel() {
    CompletableFuture<?> s = stage;
    if (s != null) {
      s.cancel(true);
    }
    interruptRunner();
  }

  // ---------------------------------------------------------------- the runner handshake

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
    while ((int) RUNNER.getVolatile(this) != ABANDONED) {
      Thread.onSpinWait(); // the abandoning thread is between its two writes
    }
    Thread.interrupted(); // the abandoning thread's interrupt was meant for the factory only
  }

  private void interruptRunner() {
    if (RUNNER.compareAndSet(this, NEW, ABANDONED)) {
      return;
    }
    if (RUNNER.compareAndSet(this, RUNNING, INTERRUPTING)) {
      thread.interrupt();
      RUNNER.setVolatile(this, ABANDONED);
    }
  }

  // ---------------------------------------------------------------- the permit

  /** True exactly once: for whoever gives the bulkhead permit back. */
  boolean returnPermit() {
    return PERMIT.compareAndSet(this, true, false);
  }
}
