package dev.statewright.cache;

/**
 * Builds the client for one key from its spec, on a scheduler worker thread. May block (it is
 * user code doing I/O) and may call back into the cache, {@code delete} and {@code close}
 * included.
 *
 * <p>At most one live build per key runs at a time, but a build the cache has <i>abandoned</i>
 * (it exceeded the build timeout, a newer spec superseded it under {@code supersede(Duration)},
 * its key was deleted or the cache closed) is interrupted and not waited for: it may still be
 * running when the next build of the same key starts, so two calls for one key can overlap.
 * An abandoned call keeps its bulkhead permit until it returns (no more than
 * {@code maxConcurrentBuilds} calls run at once, abandoned ones included), and its late client
 * is closed unseen. {@link Snapshot#abandonedBuildsRunning()} counts such calls per key.
 *
 * <p>Anything it throws, an {@link Error} included, fails the build: the cache records it as the
 * key's last error and retries with backoff.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
@FunctionalInterface
public interface ClientFactory<K, S, C> {

  /**
   * A new client for {@code key} built from {@code spec}; never null.
   *
   * @param key the key the client is for
   * @param spec the spec to build it from, exactly as the cache will report it served
   * @return the new client, never null; the cache closes it with its closer when released
   * @throws Exception if the client cannot be built: the build fails, the error is recorded as the
   *     key's last error and the build is retried with backoff
   */
  C build(K key, S spec) throws Exception;
}
