package dev.statewright.harness.sim;

/**
 * A task on a {@link SimulatedScheduler} made a blocking call: {@code ClientCache.acquire},
 * {@code CompletableFuture.join} or {@code get}, a staging scope's close waiting for leases.
 * The scheduler has one thread, so the call would wait for work only that thread can run: a
 * deadlock. The scheduler fails the step at once instead, naming the call and where it was made.
 */
public final class BlockingCallException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  BlockingCallException(String message, Throwable cause) {
    super(message, cause);
  }
}
