package dev.statewright.cache;

/**
 * Builds the client for one key from its spec. Called by at most one thread per key at a time;
 * may block (it is user code doing I/O) and is interrupted when it exceeds the build timeout.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
@FunctionalInterface
public interface ClientFactory<K, S, C> {

  /** A new client for {@code key} built from {@code spec}; never null. */
  C build(K key, S spec) throws Exception;
}
