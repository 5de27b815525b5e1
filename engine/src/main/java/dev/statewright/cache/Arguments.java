package dev.statewright.cache;

import dev.statewright.event.Versioned;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** The checks every way into the cache (its API, a source's sink) makes on what it is given. */
final class Arguments {
  private Arguments() { }

  static <K> K key(K key) {
    Objects.requireNonNull(key, "key");
    if (key instanceof CharSequence text && text.toString().isBlank()) {
      throw new IllegalArgumentException("key must not be blank");
    }
    return key;
  }

  /**
   * The holder of the leases the calling thread takes: its name, or, for a thread whose name is
   * blank (any name is allowed, and a lease refuses a blank holder), {@code "thread #"} and its id.
   */
  static String holder() {
    Thread thread = Thread.currentThread();
    String name = thread.getName();
    return name.isBlank() ? "thread #" + thread.getId() : name;
  }

  static long version(long version, Object key) {
    if (version < 0) {
      throw new IllegalArgumentException("version of '" + key + "' must be >= 0, got " + version);
    }
    return version;
  }

  /** An immutable copy of a resync's map, every key and value checked. */
  static <K, S> Map<K, Versioned<S>> copyOf(Map<K, Versioned<S>> all) {
    Objects.requireNonNull(all, "all");
    all.forEach((key, value) -> {
      Objects.requireNonNull(key, "a key of all");
      Objects.requireNonNull(value, () -> "the value of '" + key + "' in all");
    });
    return Map.copyOf(all);
  }

  static java.time.Duration notNegative(java.time.Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative()) {
      throw new IllegalArgumentException(what + " must not be negative, got " + d);
    }
    return d;
  }

  static int atLeastOne(int n, String what) {
    if (n < 1) {
      throw new IllegalArgumentException(what + " must be >= 1, got " + n);
    }
    return n;
  }

  /** {@code read}'s future, or a failed one with what it threw. */
  static <T> CompletableFuture<T> failedIfThrows(Supplier<CompletableFuture<T>> read) {
    try {
      return read.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
