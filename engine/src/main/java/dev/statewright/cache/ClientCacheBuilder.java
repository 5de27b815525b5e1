package dev.statewright.cache;

import dev.statewright.event.EventSource;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Configures a {@link ClientCache}. Not thread-safe; {@link #build()} may be called once.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
public final class ClientCacheBuilder<K, S, C> {
  /** Exactly one of the two factories is set. */
  final AsyncClientFactory<K, S, C> asyncFactory;
  final ClientFactory<K, S, C> factory;
  String name = "client-cache";
  ChangePolicy<S> changePolicy = ChangePolicy.byEquality();
  Freshness freshness = Freshness.strict();
  /** Null until set: the shared system scheduler is created only if the cache uses it. */
  Scheduler scheduler;
  Backoff backoff = Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(30));
  int maxConcurrentBuilds = 16;
  Duration buildTimeout = Duration.ofMinutes(2);
  Duration acquireTimeout = Duration.ofSeconds(30);
  Duration tombstoneRetention = Duration.ofMinutes(10);
  Duration supersede;
  Duration leaseWarning;
  Function<? super S, ? extends Collection<?>> dependsOn = spec -> List.of();
  Wave wave = Wave.all();
  BiFunction<? super S, ? super C, Duration> lifetime; // null: clients never expire
  double refreshAhead = ClientExpiry.DEFAULT_REFRESH_AHEAD;
  Reconfigurer<? super S, ? super C> reconfigurer; // null: RECONFIGURE rebuilds
  Consumer<? super C> closer = UserCode::closeIfCloseable;
  CacheListener<K> listener = new CacheListener<>() { };
  final List<EventSource<K, S>> sources = new ArrayList<>();

  ClientCacheBuilder(AsyncClientFactory<K, S, C> asyncFactory, ClientFactory<K, S, C> factory) {
    this.asyncFactory = asyncFactory;
    this.factory = factory;
  }

  /**
   * Names the cache; default {@code client-cache}.
   *
   * @param name a name for logs, messages and JFR events; not blank
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> name(String name) {
    if (Objects.requireNonNull(name, "name").isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
    this.name = name;
    return this;
  }

  /**
   * Which spec changes need a new client; default {@link ChangePolicy#byEquality()}.
   *
   * @param changePolicy classifies each spec change as NONE, METADATA, RECONFIGURE or REBUILD
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> changePolicy(ChangePolicy<S> changePolicy) {
    this.changePolicy = Objects.requireNonNull(changePolicy, "changePolicy");
    return this;
  }

  /**
   * How fresh an acquired client must be; default {@link Freshness#strict()}.
   *
   * @param freshness {@link Freshness#strict()} or {@link Freshness#boundedStaleness}
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> freshness(Freshness freshness) {
    this.freshness = Objects.requireNonNull(freshness, "freshness");
    return this;
  }

  /**
   * Time and threads; default {@link Scheduler#system()}.
   *
   * @param scheduler runs builds, timers and retries; its clock is the cache's time
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> scheduler(Scheduler scheduler) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    return this;
  }

  /**
   * Delay between retries of a failing build; default exponential 100 ms to 30 s, jittered.
   *
   * @param backoff the delay before each retry of a failing build
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> backoff(Backoff backoff) {
    this.backoff = Objects.requireNonNull(backoff, "backoff");
    return this;
  }

  /**
   * The bulkhead: builds running at once across keys; default 16.
   *
   * @param maxConcurrentBuilds factory calls running at once across keys, at least 1
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> maxConcurrentBuilds(int maxConcurrentBuilds) {
    this.maxConcurrentBuilds = Arguments.atLeastOne(maxConcurrentBuilds, "maxConcurrentBuilds");
    return this;
  }

  /**
   * A build running longer fails, is interrupted, and its late result is closed; default
   * 2 minutes, {@link Duration#ZERO} for none.
   *
   * @param buildTimeout how long a build may run, zero or more
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> buildTimeout(Duration buildTimeout) {
    this.buildTimeout = Arguments.notNegative(buildTimeout, "buildTimeout");
    return this;
  }

  /**
   * When a newer spec that needs a rebuild arrives while a build has run at least
   * {@code after}, that build is abandoned at once (interrupted or cancelled, its late result
   * released) and the newest spec queues for a permit; default: never, the build runs until it
   * ends or times out. {@link Duration#ZERO} abandons any build in flight. The abandoned call
   * holds its bulkhead permit until it returns (C8).
   *
   * @param after the least time a build must have run to be abandoned, zero or more
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> supersede(Duration after) {
    this.supersede = Arguments.notNegative(after, "supersede");
    return this;
  }

  /**
   * Logs (WARNING, naming the holders) leases that still pin a client this long after it was
   * replaced or removed; default: off, and leases do not record their holders.
   *
   * @param after how long a lease may pin a replaced client before it is logged, zero or more
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> leaseWarning(Duration after) {
    this.leaseWarning = Arguments.notNegative(after, "leaseWarning");
    return this;
  }

  /**
   * How long {@code acquire} waits for a fresh enough client; default 30 seconds.
   *
   * @param acquireTimeout the longest wait, zero or more
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> acquireTimeout(Duration acquireTimeout) {
    this.acquireTimeout = Arguments.notNegative(acquireTimeout, "acquireTimeout");
    return this;
  }

  /**
   * How long a deleted key's tombstone outlives the delete; default 10 minutes.
   *
   * @param tombstoneRetention how long a tombstone is kept, zero or more
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> tombstoneRetention(Duration tombstoneRetention) {
    this.tombstoneRetention = Arguments.notNegative(tombstoneRetention, "tombstoneRetention");
    return this;
  }

  /**
   * What else a spec reads (the Secret holding its token), for {@code dependencyChanged}.
   *
   * @param dependsOn what a spec depends on, compared with {@code equals} and {@code hashCode}
   *     (asked when the spec arrives: if they, or this function, throw, the spec is rejected as
   *     its key's last error); may return an empty collection, never null
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> dependsOn(
      Function<? super S, ? extends Collection<?>> dependsOn) {
    this.dependsOn = Objects.requireNonNull(dependsOn, "dependsOn");
    return this;
  }

  /**
   * How a dependency change rebuilds its dependents (canaries, a rate); default {@link Wave#all()}.
   *
   * @param wave {@link Wave#all()} or {@link Wave#canaryFirst}
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> dependencyWave(Wave wave) {
    this.wave = Objects.requireNonNull(wave, "wave");
    return this;
  }

  /**
   * Clients expire {@code lifetime(spec, client)} after their build, are rebuilt at
   * {@link #refreshAhead} of it and never served after it (C12); default: never. A lifetime
   * function that throws or returns null, zero or a negative duration fails that build (its
   * client is closed unseen, the error recorded, the build retried with backoff). A lifetime of
   * half the clock's range or more (about 146 years) is taken as never; any shorter one holds
   * wherever the scheduler's clock starts, across its wrap past {@code Long.MAX_VALUE} too.
   *
   * @param lifetime how long a client built from a spec may be served; asked once per build
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> expiry(BiFunction<? super S, ? super C, Duration> lifetime) {
    this.lifetime = Objects.requireNonNull(lifetime, "lifetime");
    return this;
  }

  /**
   * When, within its lifetime, a client is rebuilt; default 0.8.
   *
   * @param fraction the share of a client's lifetime after which it is rebuilt, in (0, 1]
   * @return this builder
   * @throws IllegalArgumentException if {@code fraction} is NaN or outside (0, 1]
   */
  public ClientCacheBuilder<K, S, C> refreshAhead(double fraction) {
    this.refreshAhead = ClientExpiry.fraction(fraction);
    return this;
  }

  /**
   * Updates the live client for a {@link Change#RECONFIGURE} (C13); default none: such a change
   * rebuilds. A reconfigurer that throws falls back to a rebuild.
   *
   * @param reconfigurer applies a new spec to a live client in place
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> reconfigure(Reconfigurer<? super S, ? super C> reconfigurer) {
    this.reconfigurer = Objects.requireNonNull(reconfigurer, "reconfigurer");
    return this;
  }

  /**
   * Releases a client; default: {@code close()} it if it is {@link AutoCloseable}.
   *
   * @param closer releases a replaced or removed client; runs once per client, after its last lease
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> closer(Consumer<? super C> closer) {
    this.closer = Objects.requireNonNull(closer, "closer");
    return this;
  }

  /**
   * Metrics and monitoring callbacks.
   *
   * @param listener told of transitions, builds and leases; isolated from the cache
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> listener(CacheListener<K> listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
    return this;
  }

  /**
   * Adds an event source, started by {@link #build()} and closed with the cache.
   *
   * @param source feeds specs to the cache; one of any number
   * @return this builder
   */
  public ClientCacheBuilder<K, S, C> source(EventSource<K, S> source) {
    sources.add(Objects.requireNonNull(source, "source"));
    return this;
  }

  /**
   * Builds the cache and starts its sources.
   *
   * @return the cache, with its sources started
   */
  public ClientCache<K, S, C> build() {
    return new ClientCache<>(this).startSources();
  }
}
