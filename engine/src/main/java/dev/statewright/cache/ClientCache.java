package dev.statewright.cache;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.lifecycle.Lifecycle;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One client per key, kept consistent with a spec that changes under it: each key moves
 * {@code STALE -> REBUILDING -> CURRENT} as specs arrive and builds finish, and every replaced
 * client is released exactly once, after its last lease closes.
 *
 * <p>Guarantees (numbered as in {@code specs/repository-lifecycle.md}): at most one build in flight
 * per key (C1); versions never go back and a delete leaves a tombstone (C2); updates during a build
 * cause at most one more build, of the newest spec (C3); {@link #upsert} completes once the served
 * version reaches its own (C4); {@link Snapshot#servedSpec()} is the spec the served client was
 * built from (C5); a replaced client is released after its last lease (C6); a failing build keeps
 * the last good client, records the error and retries with backoff (C7); no more than
 * {@code maxConcurrentBuilds} factory calls run at once, abandoned calls that have not returned
 * included (C8); a change to a dependency rebuilds its dependents (C9); every {@link ClientLease}
 * is told once when its client is replaced (C10); a client reported failing is never served under
 * {@link Freshness#strict()} (C11); an expired client is never served (C12); a reconfigured
 * client's served spec is the new spec (C13); {@link Snapshot#generation()} counts served clients
 * (C15).
 *
 * <p>Liveness: nothing a factory, closer, listener, source, change policy or caller does (block,
 * throw any {@code Throwable}, complete synchronously, call back into the cache, {@code delete}
 * and {@code close} included) stalls another key, loses a bulkhead permit or leaks a client.
 * Every user callback runs after the engine's own state change (one CAS) and is isolated from it.
 *
 * <p>{@link #snapshot} and {@link #list} never block. {@link #acquire} blocks as its
 * {@link Freshness} says, up to the acquire timeout; {@link #acquireAsync} does not block.
 *
 * <p>Memory consistency effects: actions in a thread prior to {@code upsert(k, s, v)}
 * <i>happen-before</i> the factory's build of {@code s}; the factory's actions <i>happen-before</i>
 * the completion of that upsert's future and every lease on the client it built.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
public final class ClientCache<K, S, C> implements AutoCloseable {
  /*
   * Overview: the public API and the builder, wired to the parts that do the work: EntryTable
   * (the map of entries and the one update core), EventIntake, BuildLauncher, LeaseIssuer,
   * DependencyIndex, SourceSupervisor, UpdateEffects, ConsistentReads. None of them names this
   * class.
   *
   * Concurrency: see EntryTable; this class holds no state of its own beyond the wiring.
   * Transitions: Node.LIFECYCLE, listed in Node.
   *
   * Ordering of this file: fields and wiring, public API, the builder.
   */

  /** The entry lifecycle; {@code specs/repository-lifecycle.md} holds the same diagram. */
  public static final Lifecycle<EntryState, EntryEvent> LIFECYCLE = Node.LIFECYCLE;

  private final String name;
  private final EntryTable<K, S, C> table;
  private final DependencyIndex<K> index;
  private final BuildLauncher<K, S, C> launcher;
  private final LeaseIssuer<K, S, C> leases;
  private final ConsistentReads<K, S, C> reads;
  private final EventIntake<K, S, C> intake;
  private final SourceSupervisor<K, S> sources;
  private final UpdateEffects<K, S, C> effects;

  private ClientCache(Builder<K, S, C> b) {
    this.name = b.name;
    Scheduler scheduler = b.scheduler != null ? b.scheduler : Scheduler.system();
    UserCode<K, C> user = new UserCode<>(name, b.listener, b.closer);
    this.table = new EntryTable<>(name, this::afterUpdate);
    this.index = new DependencyIndex<>(table::get);
    this.launcher = new BuildLauncher<>(b.asyncFactory, b.factory, b.maxConcurrentBuilds,
        scheduler, b.backoff, b.buildTimeout, new ClientExpiry<>(b.lifetime, b.refreshAhead), user,
        table, b.leaseWarning);
    this.leases = new LeaseIssuer<>(b.freshness, scheduler, b.acquireTimeout, table);
    this.reads = new ConsistentReads<>(name, b.sources, scheduler, b.acquireTimeout, leases);
    this.intake = new EventIntake<>(b.changePolicy, b.dependsOn, b.supersede,
        b.reconfigurer != null, scheduler, user, table, index, reads);
    this.sources = new SourceSupervisor<>(name, b.sources, intake, scheduler, b.backoff);
    this.effects = new UpdateEffects<>(table, user, index, launcher, intake, new ClientRenewal<>(
        b.reconfigurer, scheduler, b.buildTimeout, table), scheduler, b.tombstoneRetention);
  }

  /** Starts configuring a cache whose clients {@code factory} builds, blocking a worker thread. */
  public static <K, S, C> Builder<K, S, C> builder(ClientFactory<K, S, C> factory) {
    return new Builder<>(null, Objects.requireNonNull(factory, "factory"));
  }

  /** Starts configuring a cache whose clients {@code factory} builds asynchronously. */
  public static <K, S, C> Builder<K, S, C> asyncBuilder(AsyncClientFactory<K, S, C> factory) {
    return new Builder<>(Objects.requireNonNull(factory, "factory"), null);
  }

  // ---------------------------------------------------------------- public API

  /**
   * Records that {@code key} has {@code spec} at {@code version}.
   *
   * @return completes with the entry's snapshot once it serves {@code version} or newer; fails
   *     with the build's error if the build of that version fails (retries continue), with
   *     {@link StaleVersionException} if the key was deleted at {@code version} or later or holds
   *     a different spec at {@code version} (recorded as its last error), with
   *     {@link IllegalArgumentException} if the change policy or {@code dependsOn} throws on
   *     {@code spec} (recorded too), and with {@link NoSuchElementException} if it is deleted
   *     before being served
   */
  public final CompletableFuture<Snapshot<K, S, C>> upsert(K key, S spec, long version) {
    Arguments.key(key);
    Objects.requireNonNull(spec, () -> "spec of " + key);
    return intake.upsert(key, spec, Arguments.version(version, key));
  }

  /**
   * Deletes {@code key} at {@code version}, leaving a tombstone so that older upserts are ignored;
   * its client is released when its last lease closes.
   *
   * @return completes when the key is removed; fails with {@link StaleVersionException} if the
   *     key holds {@code version} or newer
   */
  public final CompletableFuture<Void> delete(K key, long version) {
    return intake.deleted(Arguments.key(key), Arguments.version(version, key));
  }

  /**
   * Applies {@code all} as the complete truth: upserts every entry, deletes every absent key. The
   * deletions leave soft tombstones, which a later resync listing the key at the same version
   * undoes: a snapshot that does not say how old it is may be older than what it deletes.
   */
  public final void resync(Map<K, Versioned<S>> all) {
    intake.resync(Arguments.copyOf(all), EventIntake.API, SourceSupervisor.UNKNOWN);
  }

  /**
   * Applies {@code all} as the complete truth as of version {@code asOfVersion} (an etcd header
   * revision, a Kubernetes list resourceVersion): upserts every entry, and deletes every absent
   * key not newer than {@code asOfVersion}, leaving a tombstone at that version.
   */
  public final void resync(Map<K, Versioned<S>> all, long asOfVersion) {
    long asOf = Arguments.version(asOfVersion, "resync");
    intake.resync(Arguments.copyOf(all), EventIntake.API, asOf);
  }

  /** The entry of {@code key} (a tombstone for a deleted key); never blocks or allocates a lock. */
  public final Optional<Snapshot<K, S, C>> snapshot(K key) {
    Entry<K, S, C> entry = table.get(Objects.requireNonNull(key, "key"));
    return entry == null ? Optional.empty() : entry.node().view();
  }

  /** Every live entry; each snapshot is consistent on its own. */
  public final List<Snapshot<K, S, C>> list() {
    List<Snapshot<K, S, C>> live = new ArrayList<>(table.size());
    for (Entry<K, S, C> entry : table.entries()) {
      Node<K, S, C> node = entry.node();
      if (node.isLive()) {
        live.add(node.view().orElseThrow());
      }
    }
    return live;
  }

  /**
   * What the cache holds beyond its entries, for monitors (the harness's progress and memory
   * checks); read without locking, so each count is exact only while the cache is quiescent.
   *
   * @return bulkhead permits free, and keys in the dependency index (once per dependency)
   */
  public final Footprint footprint() {
    return new Footprint(launcher.permitsAvailable(), index.size());
  }

  /**
   * A read-only count of what a cache holds beyond its entries; see {@link #footprint()}.
   *
   * @param permitsAvailable bulkhead permits not held by a build
   * @param dependencyIndexSize keys in the dependency index, counted once per dependency
   */
  public record Footprint(int permitsAvailable, int dependencyIndexSize) { }

  /**
   * A lease on the client of {@code key}, as fresh as the cache's {@link Freshness} requires,
   * waiting up to the acquire timeout. The holder is the calling thread's name.
   *
   * @throws NoSuchElementException if the key was never seen or was removed
   * @throws ClientUnavailableException if no client could be served in time, or at once when the
   *     build it waits for fails (its cause is that build's error)
   */
  public final ClientLease<C> acquire(K key) {
    return leases.acquire(Arguments.key(key));
  }

  /**
   * {@link #acquire} without blocking: completes with a lease as fresh as the cache's
   * {@link Freshness} requires, or fails as {@code acquire} would throw.
   */
  public final CompletableFuture<ClientLease<C>> acquireAsync(K key) {
    Arguments.key(key);
    return Arguments.failedIfThrows(() -> leases.acquireAsync(key));
  }

  /**
   * A lease on a client of {@code key} built from version {@code minVersion} or newer, once there
   * is one; fails after the acquire timeout with {@link ClientUnavailableException}, at once with
   * {@link NoSuchElementException} for a key never seen or removed.
   */
  public final CompletableFuture<ClientLease<C>> acquireAsync(K key, long minVersion) {
    return leases.acquireAsync(Arguments.key(key), minVersion);
  }

  /**
   * A lease on a client of {@code key} as of store version {@code storeVersion} or later: once the
   * source that delivers {@code key} has reported {@linkplain EventSink#progress progress} at
   * {@code storeVersion} or beyond, a client built from the spec {@code key} wants at that moment
   * (strictly, whatever the cache's {@link Freshness}). With several sources, only keys delivered
   * by a source that {@linkplain EventSource#reportsProgress reports progress} can be read so; a key
   * with no entry waits for every source.
   *
   * <p>Once a cache answered as of version {@code R}, it serves nothing older than {@code R} of that
   * source to anyone, for any key: progress never goes back and events are applied in order.
   *
   * <p>Memory consistency effects: the source's delivery of every event up to {@code storeVersion}
   * <i>happens-before</i> the completion of the returned future, as do the factory's actions for
   * the leased client.
   *
   * @param key the key to read
   * @param storeVersion the store version the read must reflect (an etcd revision, say)
   * @return completes with the lease; fails with {@link NoSuchElementException} if the key did not
   *     exist as of then, with {@link UnsupportedOperationException} if no source's progress can
   *     cover it, and with {@link ClientUnavailableException} after the acquire timeout
   */
  public final CompletableFuture<ClientLease<C>> acquireAsOf(K key, long storeVersion) {
    return Arguments.failedIfThrows(() -> reads.acquireAsOf(Arguments.key(key),
        Arguments.version(storeVersion, key), Thread.currentThread().getName()));
  }

  /**
   * A linearizable read of {@code key}: its source's {@linkplain EventSource#currentVersion
   * current version} (a quorum read), then {@link #acquireAsOf} that version. The lease reflects
   * every write that completed before this call, on any replica.
   *
   * @param key the key to read
   * @return completes as {@link #acquireAsOf} does; fails with
   *     {@link UnsupportedOperationException} if the source cannot read its current version
   */
  public final CompletableFuture<ClientLease<C>> acquireConsistent(K key) {
    return Arguments.failedIfThrows(() -> reads.acquireConsistent(Arguments.key(key),
        Thread.currentThread().getName()));
  }

  /**
   * Reports that the client {@code key} serves fails in use (401, connection refused): the key goes
   * STALE and rebuilds (a backoff in progress is kept); until then that client is served only under
   * {@link Freshness#boundedStaleness}, never under {@link Freshness#strict()} (C11). Its leases are
   * told once the replacement is served (C10). {@link ClientLease#reportFailure} reports one client.
   *
   * @param cause recorded as the key's last error
   * @return whether a client was served to mark (false: nothing served yet)
   * @throws NoSuchElementException if the key was never seen or was removed
   */
  public final boolean invalidate(K key, Throwable cause) {
    return leases.invalidate(Arguments.key(key), Objects.requireNonNull(cause, "cause"));
  }

  /**
   * Rebuilds every entry whose spec depends on {@code dependency} (as {@code dependsOn} says).
   *
   * @return completes when all of them serve a client built after this call
   */
  public final CompletableFuture<Void> dependencyChanged(Object dependency) {
    return intake.dependencyChangedFuture(Objects.requireNonNull(dependency, "dependency"));
  }

  /**
   * Stops the sources, abandons builds and releases every client once its leases close.
   * Idempotent. Atomic with every other method: once it returns no entry is live (every call
   * walks the entries, a nested one too), and an upsert racing it is removed by it or by itself.
   */
  @Override
  public final void close() {
    if (table.close()) {
      sources.close();
      reads.close(EntryTable.closedError(name));
    }
    table.entries().forEach(e -> table.update(e, Node::removedIfLive));
  }

  /** The table's effects: the wiring is circular, the effects need the table. */
  private void afterUpdate(Entry<K, S, C> entry, Node<K, S, C> prev, Node<K, S, C> next,
      List<Waiter<K, S, C>> settled, boolean reborn) {
    effects.afterUpdate(entry, prev, next, settled, reborn);
  }

  /** Number of dependencies indexed; for tests. */
  int indexedDependencies() {
    return index.dependencies();
  }

  @Override
  public String toString() {
    return "ClientCache[" + name + ", " + table.size() + " entries]";
  }

  // ---------------------------------------------------------------- builder

  /**
   * Configures a {@link ClientCache}. Not thread-safe; {@link #build()} may be called once.
   *
   * @param <K> the key type
   * @param <S> the spec type
   * @param <C> the client type
   */
  public static final class Builder<K, S, C> {
    /** Exactly one of the two factories is set. */
    private final AsyncClientFactory<K, S, C> asyncFactory;
    private final ClientFactory<K, S, C> factory;
    private String name = "client-cache";
    private ChangePolicy<S> changePolicy = ChangePolicy.byEquality();
    private Freshness freshness = Freshness.strict();
    /** Null until set: the shared system scheduler is created only if the cache uses it. */
    private Scheduler scheduler;
    private Backoff backoff = Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(30));
    private int maxConcurrentBuilds = 16;
    private Duration buildTimeout = Duration.ofMinutes(2);
    private Duration acquireTimeout = Duration.ofSeconds(30);
    private Duration tombstoneRetention = Duration.ofMinutes(10);
    private Duration supersede;
    private Duration leaseWarning;
    private Function<? super S, ? extends Collection<?>> dependsOn = spec -> List.of();
    private BiFunction<? super S, ? super C, Duration> lifetime; // null: clients never expire
    private double refreshAhead = ClientExpiry.DEFAULT_REFRESH_AHEAD;
    private Reconfigurer<? super S, ? super C> reconfigurer; // null: RECONFIGURE rebuilds
    private Consumer<? super C> closer = UserCode::closeIfCloseable;
    private CacheListener<K> listener = new CacheListener<>() { };
    private final List<EventSource<K, S>> sources = new ArrayList<>();

    private Builder(AsyncClientFactory<K, S, C> asyncFactory, ClientFactory<K, S, C> factory) {
      this.asyncFactory = asyncFactory;
      this.factory = factory;
    }

    /** A name for logs, messages and JFR events. */
    public Builder<K, S, C> name(String name) {
      if (Objects.requireNonNull(name, "name").isBlank()) {
        throw new IllegalArgumentException("name must not be blank");
      }
      this.name = name;
      return this;
    }

    /** Which spec changes need a new client; default {@link ChangePolicy#byEquality()}. */
    public Builder<K, S, C> changePolicy(ChangePolicy<S> changePolicy) {
      this.changePolicy = Objects.requireNonNull(changePolicy, "changePolicy");
      return this;
    }

    /** How fresh an acquired client must be; default {@link Freshness#strict()}. */
    public Builder<K, S, C> freshness(Freshness freshness) {
      this.freshness = Objects.requireNonNull(freshness, "freshness");
      return this;
    }

    /** Time and threads; default {@link Scheduler#system()}. */
    public Builder<K, S, C> scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** Delay between retries of a failing build; default exponential 100 ms to 30 s, jittered. */
    public Builder<K, S, C> backoff(Backoff backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /** The bulkhead: builds running at once across keys; default 16. */
    public Builder<K, S, C> maxConcurrentBuilds(int maxConcurrentBuilds) {
      this.maxConcurrentBuilds = Arguments.atLeastOne(maxConcurrentBuilds, "maxConcurrentBuilds");
      return this;
    }

    /**
     * A build running longer fails, is interrupted, and its late result is closed; default
     * 2 minutes, {@link Duration#ZERO} for none.
     */
    public Builder<K, S, C> buildTimeout(Duration buildTimeout) {
      this.buildTimeout = Arguments.notNegative(buildTimeout, "buildTimeout");
      return this;
    }

    /**
     * When a newer spec that needs a rebuild arrives while a build has run at least
     * {@code after}, that build is abandoned at once (interrupted or cancelled, its late result
     * released) and the newest spec queues for a permit; default: never, the build runs until it
     * ends or times out. {@link Duration#ZERO} abandons any build in flight. The abandoned call
     * holds its bulkhead permit until it returns (C8).
     */
    public Builder<K, S, C> supersede(Duration after) {
      this.supersede = Arguments.notNegative(after, "supersede");
      return this;
    }

    /**
     * Logs (WARNING, naming the holders) leases that still pin a client this long after it was
     * replaced or removed; default: off, and leases do not record their holders.
     */
    public Builder<K, S, C> leaseWarning(Duration after) {
      this.leaseWarning = Arguments.notNegative(after, "leaseWarning");
      return this;
    }

    /** How long {@code acquire} waits for a fresh enough client; default 30 seconds. */
    public Builder<K, S, C> acquireTimeout(Duration acquireTimeout) {
      this.acquireTimeout = Arguments.notNegative(acquireTimeout, "acquireTimeout");
      return this;
    }

    /** How long a deleted key's tombstone outlives the delete; default 10 minutes. */
    public Builder<K, S, C> tombstoneRetention(Duration tombstoneRetention) {
      this.tombstoneRetention = Arguments.notNegative(tombstoneRetention, "tombstoneRetention");
      return this;
    }

    /** What else a spec reads (the Secret holding its token), for {@code dependencyChanged}. */
    public Builder<K, S, C> dependsOn(Function<? super S, ? extends Collection<?>> dependsOn) {
      this.dependsOn = Objects.requireNonNull(dependsOn, "dependsOn");
      return this;
    }

    /**
     * Clients expire {@code lifetime(spec, client)} after their build, are rebuilt at
     * {@link #refreshAhead} of it and never served after it (C12); default: never.
     */
    public Builder<K, S, C> expiry(BiFunction<? super S, ? super C, Duration> lifetime) {
      this.lifetime = Objects.requireNonNull(lifetime, "lifetime");
      return this;
    }

    /** The share of a client's lifetime after which it is rebuilt, in (0, 1]; default 0.8. */
    public Builder<K, S, C> refreshAhead(double fraction) {
      this.refreshAhead = ClientExpiry.fraction(fraction);
      return this;
    }

    /** Updates the live client for a {@link Change#RECONFIGURE} (C13); default none: rebuild. */
    public Builder<K, S, C> reconfigure(Reconfigurer<? super S, ? super C> reconfigurer) {
      this.reconfigurer = Objects.requireNonNull(reconfigurer, "reconfigurer");
      return this;
    }

    /** Releases a client; default: {@code close()} it if it is {@link AutoCloseable}. */
    public Builder<K, S, C> closer(Consumer<? super C> closer) {
      this.closer = Objects.requireNonNull(closer, "closer");
      return this;
    }

    /** Metrics and monitoring callbacks. */
    public Builder<K, S, C> listener(CacheListener<K> listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Adds an event source, started by {@link #build()} and closed with the cache. */
    public Builder<K, S, C> source(EventSource<K, S> source) {
      sources.add(Objects.requireNonNull(source, "source"));
      return this;
    }

    /** The cache, with its sources started. */
    public ClientCache<K, S, C> build() {
      ClientCache<K, S, C> cache = new ClientCache<>(this);
      cache.sources.startAll();
      return cache;
    }
  }
}
