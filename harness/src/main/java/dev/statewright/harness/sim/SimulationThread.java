package dev.statewright.harness.sim;

import java.lang.StackWalker.StackFrame;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The thread simulations run on, which turns a blocking call into an error instead of a
 * deadlock.
 *
 * <p>It is the one worker of a {@link ForkJoinPool} that may never grow. A
 * {@code CompletableFuture} that is waited for on a fork-join worker asks the pool for a spare
 * thread first ({@link ForkJoinPool#managedBlock}); this pool refuses, so {@code join()},
 * {@code get()} and everything built on them (the engine's blocking {@code acquire}, a staging
 * scope waiting for its leases) throw at once. The refusal ({@code saturate}) runs on the blocked
 * thread, where it records the call for {@link SimulatedScheduler} to report even if the code
 * that made it swallowed the exception.
 */
final class SimulationThread {
  /*
   * Concurrency: one worker; a caller on another thread hands it a whole run and waits (the
   * hand-off orders everything the run did before the caller continues). `blocked` is touched
   * by the worker only.
   */
  private static final int STACK_FRAMES = 12;
  private static final ForkJoinPool POOL = new ForkJoinPool(1, SimulationThread::newWorker, null,
      false, 1, 1, 1, SimulationThread::refuseToBlock, 30, TimeUnit.SECONDS);

  private static String blocked; // the blocking call the worker last made, until taken

  private SimulationThread() { }

  /** Runs {@code run} on the simulation thread and returns its result (or throws its failure). */
  static <T> T call(Callable<T> run) {
    if (isSimulationThread()) {
      return callHere(run);
    }
    try {
      return POOL.submit(() -> callClearingInterrupts(run)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while a simulation ran", e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    }
  }

  /** Runs a hand-off on the shared worker: an interrupt meant for this run never reaches the next. */
  private static <T> T callClearingInterrupts(Callable<T> run) throws Exception {
    try {
      return run.call();
    } finally {
      Thread.interrupted();
    }
  }

  /** The blocking call made by the last step, if any, described for a human; clears it. */
  static String takeBlocked() {
    String call = blocked;
    blocked = null;
    return call;
  }

  private static <T> T callHere(Callable<T> run) {
    try {
      return run.call();
    } catch (Exception e) {
      throw rethrow(e);
    }
  }

  private static boolean isSimulationThread() {
    return Thread.currentThread() instanceof ForkJoinWorkerThread worker && worker.getPool() == POOL;
  }

  private static boolean refuseToBlock(ForkJoinPool pool) {
    if (blocked == null) {
      blocked = describe(StackWalker.getInstance().walk(s -> s.limit(64).toList()));
    }
    return false; // no spare thread: the waiting call throws RejectedExecutionException
  }

  /**
   * Names the blocking call by the outermost frame of the library that made it (the JDK's or
   * the engine's), and says where it was called from.
   */
  static String describe(List<StackFrame> frames) {
    int call = -1;
    for (int i = 0; i < frames.size(); i++) {
      String owner = frames.get(i).getClassName();
      if (owner.startsWith(SimulationThread.class.getName())) {
        continue;
      }
      if (isLibrary(owner)) {
        call = i;
      } else if (call >= 0) {
        break;
      }
    }
    StackFrame made = frames.get(Math.max(call, 0));
    String where = frames.subList(Math.min(call + 1, frames.size()), frames.size()).stream()
        .takeWhile(f -> !f.getClassName().startsWith(SimulatedScheduler.class.getName()))
        .limit(STACK_FRAMES).map(f -> "\n    at " + f.toStackTraceElement())
        .collect(Collectors.joining());
    return simpleName(made.getClassName()) + "." + made.getMethodName() + "()" + where;
  }

  private static boolean isLibrary(String owner) {
    return owner.startsWith("java.") || owner.startsWith("jdk.") || owner.startsWith("sun.")
        || owner.startsWith("dev.statewright.") && !owner.startsWith("dev.statewright.harness.");
  }

  private static String simpleName(String className) {
    return className.substring(className.lastIndexOf('.') + 1).replace('$', '.');
  }

  private static ForkJoinWorkerThread newWorker(ForkJoinPool pool) {
    ForkJoinWorkerThread worker = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
    worker.setName("statewright-simulation");
    return worker;
  }

  private static RuntimeException rethrow(Throwable failure) {
    if (failure instanceof RuntimeException runtime) {
      return runtime;
    }
    if (failure instanceof Error error) {
      throw error;
    }
    return new IllegalStateException(failure);
  }
}
