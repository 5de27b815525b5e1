package dev.statewright.harness.cache;

import dev.statewright.cache.ClientLease;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;

/** A cache under test that forwards every call to another; tests override what they break. */
class ForwardingCache implements CacheUnderTest {
  private final CacheUnderTest cache;

  ForwardingCache(CacheUnderTest cache) {
    this.cache = cache;
  }

  @Override
  public CompletionStage<Object> upsert(String key, long version) {
    return cache.upsert(key, version);
  }

  @Override
  public CompletionStage<Object> delete(String key, long version) {
    return cache.delete(key, version);
  }

  @Override
  public CompletionStage<ClientLease<SimClient>> acquire(String key) {
    return cache.acquire(key);
  }

  @Override
  public CompletionStage<Object> invalidate(String key) {
    return cache.invalidate(key);
  }

  @Override
  public OptionalLong generation(String key) {
    return cache.generation(key);
  }

  @Override
  public CompletionStage<Object> rotate(String secret) {
    return cache.rotate(secret);
  }

  @Override
  public Optional<SimClient> servedClient(String key) {
    return cache.servedClient(key);
  }

  @Override
  public Optional<View> view(String key) {
    return cache.view(key);
  }

  @Override
  public OptionalInt permitsInUse() {
    return cache.permitsInUse();
  }

  @Override
  public OptionalInt dependencyIndexSize() {
    return cache.dependencyIndexSize();
  }

  @Override
  public boolean hasTombstone(String key) {
    return cache.hasTombstone(key);
  }

  @Override
  public void close() {
    cache.close();
  }
}
