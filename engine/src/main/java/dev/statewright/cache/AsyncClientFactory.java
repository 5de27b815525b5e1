package dev.statewright.cache;

import java.util.concurrent.CompletionStage;

/**
 * Builds the client for one key without blocking the caller: for clients whose construction is
 * itself asynchronous, and for simulations where a build takes virtual time. {@code build} must
 * return promptly (the work happens in the stage); the stage may complete on any thread; when a
 * build times out or its key is removed, its stage is cancelled.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
@FunctionalInterface
public interface AsyncClientFactory<K, S, C> {

  /** Starts building a client for {@code key} from {@code spec}; the stage yields it, never null. */
  CompletionStage<C> build(K key, S spec);
}
