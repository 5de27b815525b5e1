package dev.statewright.staging;

import java.net.URI;

/** A staged stream was larger than the limit the caller set; nothing was kept. */
public final class StagingLimitExceededException extends StagingException {
  private static final long serialVersionUID = 1L;

  /** The limit the stream exceeded, in bytes. */
  private final long limit;

  StagingLimitExceededException(URI source, long limit) {
    super("stream exceeds the limit of " + limit + " bytes", source, null, null, null);
    this.limit = limit;
  }

  /**
   * The limit, in bytes.
   *
   * @return the {@code maxBytes} the caller passed to {@code stageStream}
   */
  public long limit() {
    return limit;
  }
}
