package dev.statewright.cache;

/**
 * Updates a live client in place for a spec change its {@link ChangePolicy} classified
 * {@link Change#RECONFIGURE} (a rotated token), so the cache need not rebuild it.
 *
 * <p>The client is the one being served: readers holding a lease on it see the change as it
 * happens. A reconfigurer should therefore change the client atomically (swap one volatile
 * field) and either apply {@code newSpec} wholly or throw leaving the client as it was. If it
 * throws anything, the cache falls back to a rebuild; it runs on a scheduler thread, at most one
 * at a time per key, and is abandoned (the cache rebuilds instead) when it exceeds the build
 * timeout.
 *
 * @param <S> the spec type
 * @param <C> the client type
 */
@FunctionalInterface
public interface Reconfigurer<S, C> {

  /**
   * Makes {@code client} reflect {@code newSpec}; throws if it cannot.
   *
   * @param client the served client, leased for the call
   * @param newSpec the spec it should reflect from now on
   * @throws Exception anything: the client must be left as it was, and the cache rebuilds it
   */
  void reconfigure(C client, S newSpec) throws Exception;
}
