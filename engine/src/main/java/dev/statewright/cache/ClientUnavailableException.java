package dev.statewright.cache;

/**
 * No client could be handed out in time. The cause, if any, is the entry's last build error.
 */
public final class ClientUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  ClientUnavailableException(String message, Throwable lastError) {
    super(message, lastError);
  }
}
