package dev.statewright.internal;

import dev.statewright.lease.LeasedResource;
import dev.statewright.time.Scheduler;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The engine's own way to make {@link LeasedResource}s that cost as little as possible: the cache
 * keeps one resource per served client, so its resources share one context (the clock, nobody
 * listening) made once per cache, and each is named by an object rendered only when a message
 * needs it, not by a string made for each ({@code "repository-4711@v3"}, 64 bytes, for messages
 * that are rarely written). Not API: this package is not exported.
 */
public final class Leases {
  /** Makes a resource named by an object, in a shared context. */
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
     * @param context what {@link Leases#context} made
     * @param named whether the holders of open leases are remembered, as {@code of} does
     * @return a resource in state {@code STAGED}, with no lease open
     */
    <T> LeasedResource<T> create(Object name, T value, Consumer<? super T> releaseAction,
        Object context, boolean named);
  }

  private static volatile Factory factory;
  private static volatile Function<Scheduler, Object> contexts;

  private Leases() {
  }

  /**
   * Called once, by {@code LeasedResource}'s static initializer.
   *
   * @param f the factory
   * @param c makes a context: nobody listens, the scheduler's clock stamps retire and release
   */
  public static void provide(Factory f, Function<Scheduler, Object> c) {
    factory = f;
    contexts = c;
  }

  /**
   * A context to share among resources: nobody listens to them, and {@code scheduler}'s clock
   * stamps their retire and release times.
   *
   * @param scheduler the clock
   * @return the context, to pass to {@link #create}
   */
  public static Object context(Scheduler scheduler) {
    initialized();
    return contexts.apply(Objects.requireNonNull(scheduler, "scheduler"));
  }

  /**
   * A resource named by {@code name}; see {@link Factory#create}.
   *
   * @param <T> the leased value
   * @param name renders the name when needed
   * @param value the value every lease hands out
   * @param releaseAction called once with {@code value} when the resource is released
   * @param context what {@link #context} made
   * @param named whether the holders of open leases are remembered
   * @return a resource in state {@code STAGED}
   */
  public static <T> LeasedResource<T> create(Object name, T value,
      Consumer<? super T> releaseAction, Object context, boolean named) {
    return factory.create(name, value, releaseAction, context, named);
  }

  private static void initialized() {
    if (factory == null) {
      LeasedResource.LIFECYCLE.name(); // runs LeasedResource's static initializer, which provides
    }
  }
}
