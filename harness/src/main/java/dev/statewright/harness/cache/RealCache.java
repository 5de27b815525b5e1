package dev.statewright.harness.cache;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.Change;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientCacheBuilder;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.StaleVersionException;
import dev.statewright.cache.ClientLease;
import java.io.IOException;
import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/** The engine's {@link ClientCache} as a {@link CacheUnderTest}. */
public final class RealCache implements CacheUnderTest {
  private final ClientCache<String, SimSpec, SimClient> cache;
  private final int permits; // the bulkhead it was built with; 0 if unknown

  /** The engine's cache, wired the way the property needs it. */
  static CacheUnderTest build(CacheModel.Wiring wiring) {
    if (wiring.liveness() != null) {
      return new RealCache(hostile(wiring).build(), wiring.maxConcurrentBuilds());
    }
    var builder = ClientCache.asyncBuilder(wiring.factory())
        .name("property")
        .scheduler(wiring.scheduler())
        .maxConcurrentBuilds(wiring.maxConcurrentBuilds())
        .buildTimeout(wiring.buildTimeout())
        .backoff(wiring.simulated() ? Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(30))
            : Backoff.exponential(Duration.ofMillis(5), Duration.ofMillis(100)))
        .acquireTimeout(Duration.ofMinutes(5))
        .tombstoneRetention(Duration.ofDays(1))
        .dependsOn(SimSpec::dependencies);
    if (wiring.listener() != null) {
      builder.listener(wiring.listener());
    }
    return new RealCache(wiring.factory().renewing() ? renewing(builder, wiring.factory()).build()
        : builder.build());
  }

  /**
   * Expiring clients (the factory's lifetimes, refreshed at half of them, C12) and specs
   * reconfigured in place (an even version is a token rotation, C13), through the factory's
   * reconfigurer, which fails now and then.
   */
  private static ClientCacheBuilder<String, SimSpec, SimClient> renewing(
      ClientCacheBuilder<String, SimSpec, SimClient> builder, SimFactory factory) {
    return builder.expiry((spec, client) -> client.lifetime())
        .refreshAhead(0.5)
        .changePolicy(RealCache::tokenRotations)
        .reconfigure(factory::reconfigure);
  }

  /** A newer even version is a token rotation, which the live client can take in place. */
  static Change tokenRotations(SimSpec previous, SimSpec next) {
    return previous.equals(next) ? Change.NONE
        : next.version() % 2 == 0 ? Change.RECONFIGURE : Change.REBUILD;
  }

  /**
   * The engine's cache among hostile user code: the run's factory (blocking or not), listener
   * and source; one permit; a tombstone retention shorter than the settle time.
   */
  private static ClientCacheBuilder<String, SimSpec, SimClient> hostile(CacheModel.Wiring wiring) {
    SimFactory factory = wiring.factory();
    var builder = wiring.hostility().blocking()
        ? ClientCache.<String, SimSpec, SimClient>builder(factory::buildBlocking)
        : ClientCache.asyncBuilder(factory);
    return builder.name("liveness")
        .scheduler(wiring.scheduler())
        .maxConcurrentBuilds(wiring.maxConcurrentBuilds())
        .buildTimeout(Duration.ofSeconds(30))
        .backoff(Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(30)))
        .acquireTimeout(Duration.ofMinutes(5))
        .tombstoneRetention(wiring.liveness().tombstoneRetention())
        .dependsOn(SimSpec::dependencies)
        .listener(wiring.listener())
        .closer(client -> {
          client.close();
          wiring.listener().maybeThrow("closer");
        })
        .source(wiring.source());
  }

  /**
   * Drives {@code cache}.
   *
   * @param cache the engine's cache; its bulkhead is not counted
   */
  public RealCache(ClientCache<String, SimSpec, SimClient> cache) {
    this(cache, 0);
  }

  /**
   * Drives {@code cache}, built with {@code permits} bulkhead permits.
   *
   * @param cache the engine's cache
   * @param permits the bulkhead it was built with; 0 if it has none to count
   */
  public RealCache(ClientCache<String, SimSpec, SimClient> cache, int permits) {
    this.cache = cache;
    this.permits = permits;
  }

  @Override
  public CompletionStage<Object> upsert(String key, long version) {
    return cache.upsert(key, new SimSpec(version), version).handle((snapshot, error) ->
        error == null ? "ok" : outcome(error));
  }

  @Override
  public CompletionStage<Object> delete(String key, long version) {
    return cache.delete(key, version).handle((done, error) -> error == null ? "ok" : outcome(error));
  }

  @Override
  public CompletionStage<ClientLease<SimClient>> acquire(String key) {
    return cache.acquireAsync(key);
  }

  @Override
  public CompletionStage<Object> invalidate(String key) {
    try {
      boolean marked = cache.invalidate(key, new IOException("401 Unauthorized, reported by a user"));
      return CompletableFuture.completedFuture(marked ? "marked" : "nothing");
    } catch (NoSuchElementException | IllegalStateException absentOrClosed) {
      return CompletableFuture.completedFuture("none");
    }
  }

  @Override
  public OptionalLong generation(String key) {
    return cache.snapshot(key).map(s -> OptionalLong.of(s.generation())).orElse(OptionalLong.empty());
  }

  @Override
  public CompletionStage<Object> rotate(String secret) {
    return cache.dependencyChanged(secret).handle((done, error) -> error == null ? "ok" : outcome(error));
  }

  @Override
  public Optional<SimClient> servedClient(String key) {
    var lease = cache.acquireAsync(key, 0);
    if (lease.cancel(false) || lease.isCompletedExceptionally()) {
      return Optional.empty(); // nothing served now; cancelled, so no lease is left behind
    }
    try (var held = lease.join()) {
      return Optional.of(held.get());
    }
  }

  @Override
  public Optional<View> view(String key) {
    return cache.snapshot(key).filter(s -> s.state() != EntryState.REMOVED)
        .map(s -> new View(s.desiredVersion(), s.servedVersion().orElse(-1),
            s.state() != EntryState.CURRENT, s.nextRetryNanos().isPresent(), s.lastError().isPresent()));
  }

  @Override
  public OptionalInt permitsInUse() {
    return permits == 0 ? OptionalInt.empty() : OptionalInt.of(permits - cache.footprint().permitsAvailable());
  }

  @Override
  public OptionalInt dependencyIndexSize() {
    return OptionalInt.of(cache.footprint().dependencyIndexSize());
  }

  @Override
  public boolean hasTombstone(String key) {
    return cache.snapshot(key).filter(s -> s.state() == EntryState.REMOVED).isPresent();
  }

  @Override
  public void close() {
    cache.close();
  }

  static Object outcome(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof StaleVersionException) {
      return "stale";
    }
    if (cause instanceof NoSuchElementException) {
      return "deleted";
    }
    return "failed: " + cause.getClass().getSimpleName();
  }

  @Override
  public String toString() {
    return "ClientCache";
  }
}
