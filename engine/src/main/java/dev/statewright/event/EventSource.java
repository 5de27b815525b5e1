package dev.statewright.event;

/**
 * Feeds one {@link EventSink}. {@code start} returns promptly and delivers events from then on,
 * on threads of the source's choosing; a sink is safe for concurrent calls. A source whose
 * {@code start} throws is restarted with backoff by its cache. {@code close} is idempotent.
 *
 * @param <K> the key type
 * @param <S> the spec type
 */
public interface EventSource<K, S> extends AutoCloseable {

  /** Begins delivering to {@code sink}. */
  void start(EventSink<K, S> sink);

  /** Stops delivering; idempotent, throws nothing checked. */
  @Override
  void close();
}
