package dev.statewright.harness.property;

/** A property failed; the message is the full report: seeds, shrunk program, trace. */
public final class PropertyFailedError extends AssertionError {
  private static final long serialVersionUID = 1L;

  private final transient Failure<?, ?> failure;

  PropertyFailedError(Failure<?, ?> failure) {
    super(failure.report());
    this.failure = failure;
  }

  /**
   * The failure, for tools that want its parts.
   *
   * @return the shrunk failure
   */
  public Failure<?, ?> failure() {
    return failure;
  }
}
