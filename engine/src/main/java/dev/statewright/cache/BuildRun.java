package dev.statewright.cache;

import dev.statewright.time.Scheduler;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One call of the factory, identified by object identity. Carries what it builds and one state
 * word for the three small protocols of a build: the factory call (launched, ended, perhaps
 * abandoned on the way, counted while an abandoned call still runs), the bulkhead permit, given
 * back exactly once, and, for a blocking factory, the interrupt handshake that lets an abandoned
 * build be interrupted without leaving an interrupt on a pooled thread. An asynchronous
 * factory's stage is cancelled instead.
 */
final class BuildRun<S> {
  /*
   * Overview: the state word packs the call's phase (two bits, in order of progress) and four
   * flags. The permit is held from BUILD_STARTED until the call ends (C8 counts abandoned calls
   * still running: the bulkhead protects what the factory calls), unless it passes on to the
   * next build of the same key.
   *
   * Concurrency: every change is one CAS (or one atomic bitwise update) of `state`. No method
   * waits for user code. abandon() may run on any thread, including inside the factory call
   * itself (a factory that deletes its key or closes the cache): when it finds the call
   * LAUNCHING it only sets ABANDONED, and launched() cancels when the call returns. The one wait
   * is the worker's in exit(), across the abandoning thread's own Thread.interrupt() call, whose
   * end is written in a finally (FutureTask.cancel and handlePossibleCancellationInterrupt). The
   * worker keeps the interrupt status it had before the factory: it clears only an interrupt
   * that abandonment delivered to a thread that was not interrupted already.
   *
   * Transitions of the phase (CAS only), in order of progress:
   *   NEW -> LAUNCHING -> LAUNCHED -> ENDED     the factory was called and its stage completed
   * Flags, each set once, never cleared but INTERRUPTING:
   *   ABANDONED      the entry gave the build up; in NEW the factory is never called; in
   *                  LAUNCHING or LAUNCHED the call is counted in abandonedRunning until ENDED
   *   RUNNING        a blocking factory's worker is inside the call (set by enter() unless
   *                  ABANDONED, cleared by exit())
   *   INTERRUPTING -> INTERRUPTED   abandonment is interrupting the worker (set with ABANDONED or
   *                  by launched() only while RUNNING; flipped to INTERRUPTED in a finally)
   *   PERMIT_RETURNED               the bulkhead permit went back (or passed on), exactly once
   *
   * A re-added key's first build waits for its removed build's call to return (afterLaunch), so
   * the two calls never overlap (C1): the waiting build is handed to launched(), nobody waits.
   *
   * Ordering of this file: the state word, fields, the call, the worker handshake, the permit.
   */
  private static final int PHASE = 0b11;
  private static final int NEW = 0;
  private static final int LAUNCHING = 1;
  private static final int LAUNCHED = 2;
  private static final int ENDED = 3;
  private static final int ABANDONED = 1 << 2;
  private static final int RUNNING = 1 << 3;
  private static final int INTERRUPTING = 1 << 4;
  private static final int INTERRUPTED = 1 << 5;
  private static final int PERMIT_RETURNED = 1 << 6;
  /** Marks {@link #afterLaunch} as spent: the call has returned. */
  private static final Runnable LAUNCH_RETURNED = () -> { };
  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(BuildRun.class, "state", int.class);
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
  /** The worker running a blocking factory; written before the CAS that sets RUNNING. */
  private volatile Thread worker;
  /** The stage to cancel on abandonment; null for a blocking factory, which is interrupted. */
  private volatile CompletableFuture<?> stage;
  private volatile Scheduler.Cancellable timeout = () -> { };
  /**
   * What waits for the factory call to return (a re-added key's first build), then spent: a
   * hand-off slot beside the state word, taken once by launched() and never read for state.
   */
  private final AtomicReference<Runnable> afterLaunch = new AtomicReference<>();
  @SuppressWarnings("unused") // accessed through STATE
  private volatile int state;

  BuildRun(S spec, long version, long revision, long startNanos, AtomicInteger abandonedRunning) {
    this.spec = spec;
    this.version = version;
    this.revision = revision;
    this.startNanos = startNanos;
    this.abandonedRunning = abandonedRunning;
  }

  /**
   * The build timeout's timer, armed by the effects of the update that started the run, before
   * the callbacks told before its call (another thread may have given the run up, or ended it,
   * by then): cancelled at once if the run ended or was abandoned before it was set. The timer is
   * written before the state is read, and abandon(), and ended() followed by cancelTimeout(),
   * change the state before they read the timer, so one of the two sides cancels it.
   */
  void timeout(Scheduler.Cancellable timeout) {
    this.timeout = timeout;
    int s = state();
    if ((s & ABANDONED) != 0 || (s & PHASE) == ENDED) {
      timeout.cancel();
    }
  }

  /** Cancels the build timeout (idempotent): after the call's outcome has been applied. */
  void cancelTimeout() {
    timeout.cancel();
  }

  private int state() {
    return (int) STATE.getVolatile(this);
  }

  private boolean cas(int expected, int next) {
    return STATE.compareAndSet(this, expected, next);
  }

  // ---------------------------------------------------------------- the call

  /** Claims the right to call the factory (NEW -> LAUNCHING); false if abandoned first. */
  boolean beginLaunch() {
    return cas(NEW, LAUNCHING);
  }

  /**
   * The factory returned (LAUNCHING -> LAUNCHED); {@code cancellable} is the stage to cancel on
   * abandonment (null for a blocking factory). Finishes an abandonment that came during the call.
   */
  void launched(CompletableFuture<?> cancellable) {
    this.stage = cancellable;
    for (;;) {
      int s = state();
      int next = (s & ~PHASE) | LAUNCHED;
      boolean interrupt = (s & (ABANDONED | RUNNING)) == (ABANDONED | RUNNING);
      if (cas(s, interrupt ? next | INTERRUPTING : next)) {
        if ((s & ABANDONED) != 0) { // abandoned during the call: only we move on from here
          cancel(interrupt);
        }
        Runnable waiting = afterLaunch.getAndSet(LAUNCH_RETURNED);
        if (waiting != null) {
          waiting.run();
        }
        return;
      }
    }
  }

  /**
   * Runs {@code next} once the factory call has returned: at once unless it is being made now
   * (on another thread, or further up this one), else when it returns. Never waits.
   */
  void afterLaunch(Runnable next) {
    if ((state() & PHASE) != LAUNCHING || !afterLaunch.compareAndSet(null, next)) {
      next.run();
    }
  }

  /**
   * The call's stage completed (-> ENDED). True if the build had been abandoned. The timeout stays
   * armed until {@link #cancelTimeout}, once the outcome is applied.
   */
  boolean ended() {
    for (;;) {
      int s = state();
      if (cas(s, (s & ~PHASE) | ENDED)) {
        boolean abandoned = (s & ABANDONED) != 0;
        if (abandoned && (s & PHASE) == LAUNCHED) {
          abandonedRunning.decrementAndGet();
        }
        return abandoned;
      }
    }
  }

  /** Whether the entry gave the build up. */
  boolean isAbandoned() {
    return (state() & ABANDONED) != 0;
  }

  /** Whether the call's stage has completed. */
  boolean hasEnded() {
    return (state() & PHASE) == ENDED;
  }

  /**
   * Gives the build up: cancels its stage or interrupts a blocking factory. Idempotent; never
   * waits. True if the factory was never called, so the caller gives the permit back (otherwise
   * the end of the call does).
   */
  boolean abandon() {
    for (;;) {
      int s = state();
      if ((s & ABANDONED) != 0) {
        return false;
      }
      int phase = s & PHASE;
      boolean running = phase == LAUNCHING || phase == LAUNCHED;
      boolean interrupt = phase == LAUNCHED && (s & RUNNING) != 0;
      if (running) {
        abandonedRunning.incrementAndGet(); // before the CAS, so the count never goes below 0
      }
      if (cas(s, s | ABANDONED | (interrupt ? INTERRUPTING : 0))) {
        timeout.cancel(); // after the CAS: a timer armed meanwhile sees ABANDONED (timeout())
        if (phase == LAUNCHED) {
          cancel(interrupt);
        }
        return phase == NEW;
      }
      if (running) {
        abandonedRunning.decrementAndGet();
      }
    }
  }

  /** Cancels the stage, and interrupts the worker if this thread set INTERRUPTING. */
  private void cancel(boolean interrupt) {
    CompletableFuture<?> s = stage;
    if (s != null) {
      s.cancel(true);
    }
    if (interrupt) {
      try {
        worker.interrupt();
      } finally {
        STATE.getAndBitwiseXor(this, INTERRUPTING | INTERRUPTED); // the final state, always
      }
    }
  }

  // ---------------------------------------------------------------- the worker handshake

  /** Called by the worker before the factory; false if the build was abandoned already. */
  boolean enter() {
    worker = Thread.currentThread();
    for (;;) {
      int s = state();
      if ((s & ABANDONED) != 0) {
        return false;
      }
      if (cas(s, s | RUNNING)) {
        return true;
      }
    }
  }

  /**
   * Called by the worker after the factory, with whether it was interrupted before it: clears
   * an interrupt that abandonment delivered, and keeps any the thread had of its own.
   */
  void exit(boolean wasInterrupted) {
    for (;;) {
      int s = state();
      if ((s & INTERRUPTING) != 0) {
        Thread.onSpinWait(); // the abandoning thread is inside Thread.interrupt(), not user code
        continue;
      }
      if (cas(s, s & ~RUNNING)) {
        if ((s & INTERRUPTED) != 0 && !wasInterrupted) {
          Thread.interrupted(); // delivered by abandonment, meant for the factory only
        }
        return;
      }
    }
  }

  // ---------------------------------------------------------------- the permit

  /** True exactly once: for whoever gives the bulkhead permit back. */
  boolean returnPermit() {
    for (;;) {
      int s = state();
      if ((s & PERMIT_RETURNED) != 0) {
        return false;
      }
      if (cas(s, s | PERMIT_RETURNED)) {
        return true;
      }
    }
  }
}
