package dev.statewright.harness.cache;

import dev.statewright.cache.ClientLease;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A cache under test whose callers are protected from it: whatever a call throws (a listener's
 * {@link Error} carried out of {@code upsert}, say) is reported as an {@code isolation:}
 * violation and becomes a failed result, so the simulation goes on. A cache that could not be
 * built ({@code null}) holds nothing.
 */
final class IsolatingCache implements CacheUnderTest {
  private final CacheUnderTest cache;
  private final CacheMonitor monitor;

  IsolatingCache(CacheUnderTest cache, CacheMonitor monitor) {
    this.cache = cache;
    this.monitor = monitor;
  }

  private <T> CompletionStage<T> guarded(String call, Supplier<CompletionStage<T>> body) {
    if (cache == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("the cache could not be built"));
    }
    try {
      return body.get();
    } catch (RuntimeException | Error e) {
      monitor.violation("isolation: " + call + " threw " + e + " into its caller");
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletionStage<Object> upsert(String key, long version) {
    CompletionStage<Object> answer =
        guarded("upsert(" + key + ", v" + version + ")", () -> cache.upsert(key, version))
            .exceptionally(e -> "failed: " + e.getClass().getSimpleName());
    monitor.upserted(key, version, answer);
    return answer;
  }

  @Override
  public CompletionStage<Object> delete(String key, long version) {
    return guarded("delete(" + key + ", v" + version + ")", () -> cache.delete(key, version))
        .exceptionally(e -> "failed: " + e.getClass().getSimpleName());
  }

  @Override
  public CompletionStage<ClientLease<SimClient>> acquire(String key) {
    return cache == null ? CompletableFuture.failedFuture(new NoSuchElementException(key))
        : guarded("acquire(" + key + ")", () -> cache.acquire(key));
  }

  @Override
  public CompletionStage<Object> invalidate(String key) {
    return cache == null ? CompletableFuture.completedFuture("none")
        : guarded("invalidate(" + key + ")", () -> cache.invalidate(key))
            .exceptionally(e -> "failed: " + e.getClass().getSimpleName());
  }

  @Override
  public OptionalLong generation(String key) {
    return cache == null ? OptionalLong.empty() : cache.generation(key);
  }

  @Override
  public CompletionStage<Object> rotate(String secret) {
    return guarded("dependencyChanged(" + secret + ")", () -> cache.rotate(secret))
        .exceptionally(e -> "failed: " + e.getClass().getSimpleName());
  }

  @Override
  public Optional<SimClient> servedClient(String key) {
    return cache == null ? Optional.empty() : cache.servedClient(key);
  }

  @Override
  public Optional<View> view(String key) {
    return cache == null ? Optional.empty() : cache.view(key);
  }

  @Override
  public OptionalInt permitsInUse() {
    return cache == null ? OptionalInt.empty() : cache.permitsInUse();
  }

  @Override
  public OptionalInt dependencyIndexSize() {
    return cache == null ? OptionalInt.empty() : cache.dependencyIndexSize();
  }

  @Override
  public boolean hasTombstone(String key) {
    return cache != null && cache.hasTombstone(key);
  }

  @Override
  public void close() {
    if (cache != null) {
      guarded("close()", () -> {
        cache.close();
        return CompletableFuture.completedFuture(null);
      });
    }
  }

  @Override
  public String toString() {
    return String.valueOf(cache);
  }
}
