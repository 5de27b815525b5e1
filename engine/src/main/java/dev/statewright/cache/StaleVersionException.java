package dev.statewright.cache;

/**
 * An event was ignored because the key already holds a newer version (or was deleted at one).
 * Completes the future of such an {@code upsert} or {@code delete}; sources never see it.
 */
public final class StaleVersionException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  StaleVersionException(String message) {
    super(message);
  }
}
