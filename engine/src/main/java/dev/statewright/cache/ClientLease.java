package dev.statewright.cache;

import dev.statewright.lease.Lease;
import java.util.concurrent.CompletionStage;

/**
 * A lease on one client of a {@link ClientCache}, which knows whether that client is still the one
 * its key serves. A long-lived holder (a watch, a streaming call) listens to {@link #superseded()}
 * and acquires again when it completes, so it never pins a replaced client; a holder whose calls
 * fail (401, connection refused) tells the cache with {@link #reportFailure}.
 *
 * <p>Memory consistency effects: the cache's replacement or removal of the leased client
 * <i>happens-before</i> the completion of {@link #superseded()} and {@link #isCurrent()} returning
 * false.
 *
 * @param <C> the client type
 */
public interface ClientLease<C> extends Lease<C> {

  /**
   * The version of the spec the leased client reflects: built from, or reconfigured to.
   *
   * @return the spec's version; several generations of clients may share it
   */
  long version();

  /**
   * Whether the leased client is still the one its key serves; false, for good, once the cache
   * replaced it (a rebuild, an invalidation) or removed it (a delete, the cache's close), or once
   * its lifetime under the builder's {@code expiry} ended, whether its timer has run or not. The
   * lease itself stays usable until it is closed.
   *
   * @return true while the cache still serves the leased client
   */
  boolean isCurrent();

  /**
   * Completes, exactly once and normally, when the leased client is replaced or removed (the
   * cache's close included): the holder should acquire again. Every lease on one client shares
   * one stage, created on first call; its dependents run, after the replacement, on the thread
   * that replaced the client or on the first to ask {@link #isCurrent()} after it, unless given
   * an executor. It cannot be completed by its holders.
   *
   * @return the stage, shared by every lease on the client; it never completes exceptionally
   */
  CompletionStage<Void> superseded();

  /**
   * Reports that the leased client failed in use: if it is still the one its key serves, the cache
   * marks it broken, as {@link ClientCache#invalidate} does. A report against a client already
   * replaced changes nothing.
   *
   * @param cause what failed, recorded as the key's last error
   * @return whether this report marked the client broken or, if a rebuild was due already,
   *     recorded {@code cause}; false if the client was replaced or removed before
   */
  boolean reportFailure(Throwable cause);
}
