package dev.statewright.event;

import java.util.concurrent.CompletableFuture;

/**
 * Feeds one {@link EventSink}. {@code start} returns promptly and delivers events from then on,
 * on threads of the source's choosing; a sink is safe for concurrent calls. A source whose
 * {@code start} throws is restarted with backoff by its cache. {@code close} is idempotent.
 *
 * @param <K> the key type
 * @param <S> the spec type
 */
public interface EventSource<K, S> extends AutoCloseable {

  /**
   * Begins delivering to {@code sink}.
   *
   * @param sink where every event from now on goes; a source delivers to one sink only
   */
  void start(EventSink<K, S> sink);

  /**
   * Whether this source calls {@link EventSink#progress}, so that a cache can answer reads as of a
   * store version for the keys it delivers. False by default; a cache also counts a source that
   * has reported progress once as one that reports it.
   *
   * @return whether this source reports progress
   */
  default boolean reportsProgress() {
    return false;
  }

  /**
   * The store's current version, read so that it is at least every version any reader could
   * have observed before this call (a quorum read in etcd, a list from the API server): a cache
   * that has reached it holds everything written before the call. By default the future fails
   * with {@link UnsupportedOperationException}.
   *
   * <p>Memory consistency effects: the future completes on a thread of the source's choosing; a
   * caller's actions before this call <i>happen-before</i> the read is sent.
   *
   * @return completes with the store's current version
   */
  default CompletableFuture<Long> currentVersion() {
    return CompletableFuture.failedFuture(new UnsupportedOperationException(
        this + " cannot read the store's current version"));
  }

  /** Stops delivering; idempotent, throws nothing checked. */
  @Override
  void close();
}
