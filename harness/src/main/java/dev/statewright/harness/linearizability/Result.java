package dev.statewright.harness.linearizability;

import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * How an operation ended, as its caller saw it: {@link #ok ok(value)} (it took effect and
 * returned {@code value}), {@link #failed()} (it certainly did not take effect), or
 * {@link #unknown()} (it may or may not have taken effect: it may linearize anywhere after its
 * invocation, or never — Jepsen's {@code :info}). A {@code null} value is a value like any
 * other, never a stand-in for "no response". Immutable.
 *
 * @param <O> the output type
 */
public final class Result<O> {
  /** The three ways an operation can end. */
  public enum Kind {
    /** It took effect and returned a value. */
    OK,
    /** It did not take effect. */
    FAILED,
    /** Nobody knows whether it took effect. */
    UNKNOWN
  }

  private static final Result<?> FAILED = new Result<>(Kind.FAILED, null);
  private static final Result<?> UNKNOWN = new Result<>(Kind.UNKNOWN, null);

  private final Kind kind;
  private final O value;

  private Result(Kind kind, O value) {
    this.kind = kind;
    this.value = value;
  }

  /**
   * An operation that took effect and returned {@code value}.
   *
   * @param value what it returned (may be null, meaning the value null)
   * @param <O> the output type
   * @return the outcome
   */
  public static <O> Result<O> ok(O value) {
    return new Result<>(Kind.OK, value);
  }

  /**
   * An operation that did not take effect (an error that guarantees nothing changed).
   *
   * @param <O> the output type
   * @return the outcome
   */
  @SuppressWarnings("unchecked")
  public static <O> Result<O> failed() {
    return (Result<O>) FAILED;
  }

  /**
   * An operation whose effect is unknown: a timeout, a lost connection, no response yet.
   *
   * @param <O> the output type
   * @return the outcome
   */
  @SuppressWarnings("unchecked")
  public static <O> Result<O> unknown() {
    return (Result<O>) UNKNOWN;
  }

  /**
   * Which of the three it is.
   *
   * @return the kind
   */
  public Kind kind() {
    return kind;
  }

  /**
   * Whether it took effect and returned a value.
   *
   * @return true for {@code ok(value)}
   */
  public boolean isOk() {
    return kind == Kind.OK;
  }

  /**
   * The value returned.
   *
   * @return the value (possibly null)
   * @throws NoSuchElementException if this is not {@code ok(value)}
   */
  public O value() {
    if (kind != Kind.OK) {
      throw new NoSuchElementException("a " + this + " operation returned no value");
    }
    return value;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Result<?> that && kind == that.kind && Objects.equals(value, that.value);
  }

  @Override
  public int hashCode() {
    return 31 * kind.hashCode() + Objects.hashCode(value);
  }

  @Override
  public String toString() {
    return switch (kind) {
      case OK -> "ok(" + value + ")";
      case FAILED -> "failed";
      case UNKNOWN -> "unknown";
    };
  }
}
