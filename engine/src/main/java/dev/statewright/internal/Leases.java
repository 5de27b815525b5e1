package dev.statewright.internal;

import dev.statewright.lease.LeasedResource;
import dev.statewright.time.Scheduler;
import java.util.function.Consumer;

/**
 * The engine's own way to make a {@link LeasedResource} whose name is rendered only when a message
 * needs it: the cache keeps one resource per served client, and a name string made for each
 * ({@code "repository-4711@v3"}, 64 bytes) would be most of what the resource costs, for messages
 * that are rarely written. Not API: this package is not exported.
 */
public final class Leases {
  /**
   * Makes a resource named by an object.
   */
  @FunctionalInterface
  public interface Factory {
    /**
     * A new resource, as {@code LeasedResource.counted} (or {@code of}, with {@code named})
     * makes one, named by {@code name.toString()}.
     *
     * @param <T> the leased value
     * @param name renders the resource's name when a message, {@code name()} or JFR needs it; its
     *     {@code toString()} must always return the same non-blank string
     * @param value the value every lease hands out
     * @param releaseAction called once with {@code value} when the resource is released
     * @param scheduler the clock that stamps the retire and release times in messages
     * @param named whether the holders of open leases are remembered, as {@code of} does
     * @return a resource in state {@code STAGED}, with no lease open
     */
    <T> LeasedResource<T> create(Object name, T value, Consumer<? super T> releaseAction,
        Scheduler scheduler, boolean named);
  }

  private static volatile Factory factory;

  private Leases() {
  }

  /**
   * Called once, by {@code LeasedResource}'s static initializer.
   *
   * @param f the factory
   */
  public static void provide(Factory f) {
    factory = f;
  }

  /**
   * A resource named by {@code name}; see {@link Factory#create}.
   *
   * @param <T> the leased value
   * @param name renders the name when needed
   * @param value the value every lease hands out
   * @param releaseAction called once with {@code value} when the resource is released
   * @param scheduler the clock that stamps the retire and release times in messages
   * @param named whether the holders of open leases are remembered
   * @return a resource in state {@code STAGED}
   */
  public static <T> LeasedResource<T> create(Object name, T value,
      Consumer<? super T> releaseAction, Scheduler scheduler, boolean named) {
    Factory f = factory;
    if (f == null) {
      LeasedResource.LIFECYCLE.name(); // runs LeasedResource's static initializer, which provides
      f = factory;
    }
    return f.create(name, value, releaseAction, scheduler, named);
  }
}
