package dev.statewright.cache;

import java.util.concurrent.CompletionStage;

/**
 * Builds the client for one key without blocking the caller: for clients whose construction is
 * itself asynchronous, and for simulations where a build takes virtual time. {@code build} must
 * return promptly (the work happens in the stage; the bulkhead hands out permits on the calling
 * thread); the stage may complete on any thread, or already be complete when returned. {@code
 * build} may call back into the cache, {@code delete} and {@code close} included; anything it
 * throws fails the build.
 *
 * <p>When a build is abandoned (it times out, a newer spec supersedes it under
 * {@code supersede(Duration)}, its key is removed or the cache closes) its stage is cancelled; the
 * cancelled stage counts as returned, so its bulkhead permit comes back then. A late client the
 * stage still yields is closed unseen.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
@FunctionalInterface
public interface AsyncClientFactory<K, S, C> {

  /**
   * Starts building a client for {@code key} from {@code spec}; the stage yields it, never null.
   *
   * @param key the key the client is for
   * @param spec the spec to build it from, exactly as the cache will report it served
   * @return the build in progress: completes with the client, or exceptionally to fail the build
   *     (recorded as the key's last error and retried with backoff); cancelled if the build is
   *     abandoned
   */
  CompletionStage<C> build(K key, S spec);
}
