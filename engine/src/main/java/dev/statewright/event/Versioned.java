package dev.statewright.event;

import java.util.Objects;

/**
 * A value with the version its source gave it. Versions are per key, non-negative, and grow
 * with every change (an etcd {@code mod_revision}, a Kubernetes {@code resourceVersion}).
 *
 * <p>{@code toString} shows the version only: values carry credentials.
 *
 * @param <S> the value type
 * @param value the value
 * @param version the version
 */
public record Versioned<S>(S value, long version) {

  /**
   * Checks the value is present and the version is not negative.
   *
   * @param value the value, never null
   * @param version the version its source gave it, zero or more
   * @throws NullPointerException if {@code value} is null
   * @throws IllegalArgumentException if {@code version} is negative
   */
  public Versioned {
    Objects.requireNonNull(value, "value");
    if (version < 0) {
      throw new IllegalArgumentException("version must be >= 0, got " + version);
    }
  }

  /**
   * Shorthand for the constructor.
   *
   * @param <S> the value type
   * @param value the value, never null
   * @param version the version its source gave it, zero or more
   * @return the pair
   * @throws NullPointerException if {@code value} is null
   * @throws IllegalArgumentException if {@code version} is negative
   */
  public static <S> Versioned<S> of(S value, long version) {
    return new Versioned<>(value, version);
  }

  @Override
  public String toString() {
    return "Versioned[v" + version + "]";
  }
}
