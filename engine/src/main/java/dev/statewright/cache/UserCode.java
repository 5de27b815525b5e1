package dev.statewright.cache;

import java.util.function.Consumer;

/**
 * The user code a cache calls besides its factory, each call isolated: a listener or closer that
 * throws any {@code Throwable} is logged and goes no further, so it never reaches the engine.
 * Every call here runs after the engine's own state change, outside any lock.
 *
 * @param <K> the key type
 * @param <C> the client type
 */
final class UserCode<K, C> {
  private static final System.Logger LOG = System.getLogger("dev.statewright.cache.ClientCache");

  final String cacheName;
  final CacheListener<K> listener;
  private final Consumer<? super C> closer;

  UserCode(String cacheName, CacheListener<K> listener, Consumer<? super C> closer) {
    this.cacheName = cacheName;
    this.listener = listener;
    this.closer = closer;
  }

  /** Runs a listener callback; nothing it throws reaches the engine. */
  void tell(Consumer<CacheListener<K>> callback) {
    isolated("a listener", () -> callback.accept(listener));
  }

  /** Closes {@code client} (if not null) with the user's closer. */
  void discard(C client) {
    if (client != null) {
      isolated("closing a client", () -> closer.accept(client));
    }
  }

  /** Runs user code; any Throwable it throws is logged and goes no further. */
  void isolated(String what, Runnable callback) {
    try {
      callback.run();
    } catch (Throwable t) {
      LOG.log(System.Logger.Level.WARNING, () -> cacheName + ": " + what + " failed", t);
    }
  }

  /** Logs at {@code level} under the cache's logger, prefixed with its name. */
  void log(System.Logger.Level level, String message, Throwable error) {
    LOG.log(level, () -> cacheName + ": " + message, error);
  }

  /** The default closer: {@code close()} a client that is {@link AutoCloseable}. */
  static void closeIfCloseable(Object client) {
    if (client instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, () -> "closing a client failed", e);
      }
    }
  }
}
