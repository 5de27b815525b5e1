package dev.statewright.lease;

/**
 * A named holder's claim on a resource: while any lease is open the resource is not released.
 *
 * <p>A lease is meant to be used by one thread at a time, in try-with-resources. {@link #close()}
 * is idempotent and throws nothing checked.
 *
 * @param <T> the leased value
 */
public interface Lease<T> extends AutoCloseable {

  /**
   * The leased value.
   *
   * @return the value the resource was created with; the same object for every lease
   * @throws IllegalStateException if this lease is closed
   */
  T get();

  /**
   * Who holds this lease, as given to {@code acquire}.
   *
   * @return the holder's name, never blank; still answered after close
   */
  String holder();

  /** Gives the claim up; the last close after the owner retired the resource releases it. */
  @Override
  void close();
}
