package dev.statewright.internal;

import java.util.concurrent.Executors;

/**
 * Registers cleanup to run when the JVM exits normally. The one place the engine makes a thread
 * of its own: a shutdown hook has to be a thread, and it is never started by us.
 */
public final class ShutdownHook {
  private final Thread thread;

  private ShutdownHook(Thread thread) {
    this.thread = thread;
  }

  /**
   * Runs {@code cleanup} at JVM exit unless {@link #remove()}d first.
   *
   * @param name the name of the hook thread, as thread dumps show it
   * @param cleanup the work to run at exit; it runs on the hook thread, concurrently with other
   *     hooks
   * @return the registration, to {@link #remove()} when the cleanup is no longer needed
   * @throws IllegalStateException if the JVM is already shutting down
   */
  public static ShutdownHook register(String name, Runnable cleanup) {
    Thread thread = Executors.defaultThreadFactory().newThread(cleanup);
    thread.setName(name);
    Runtime.getRuntime().addShutdownHook(thread);
    return new ShutdownHook(thread);
  }

  /** Unregisters the hook; a no-op once the JVM is shutting down. */
  public void remove() {
    try {
      Runtime.getRuntime().removeShutdownHook(thread);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or about to: nothing to undo
    }
  }
}
