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
 * client's served spec is the new spec (C13); a dependency change runs in a wave that never
 * exceeds its rate and stops on a failed canary (C14); {@link Snapshot#generation()} counts served
 * clients (C15).
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

  ClientCache(ClientCacheBuilder<K, S, C> b) {
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
        b.reconfigurer != null, scheduler, user, table, index, reads, b.wave);
    this.sources = new SourceSupervisor<>(name, b.sources, intake, scheduler, b.backoff);
    this.effects = new UpdateEffects<>(table, user, index, launcher, intake, new ClientRenewal<>(
        b.reconfigurer, scheduler, b.buildTimeout, table), scheduler, b.tombstoneRetention);
  }

  /**
   * Starts configuring a cache whose clients {@code factory} builds, blocking a worker thread.
   *
   * @param <K> the key type
   * @param <S> the spec type
   * @param <C> the client type
   * @param factory builds a key's client on a scheduler worker; it may block
   * @return a builder with the defaults each of its methods names
   */
  public static <K, S, C> ClientCacheBuilder<K, S, C> builder(ClientFactory<K, S, C> factory) {
    return new ClientCacheBuilder<>(null, Objects.requireNonNull(factory, "factory"));
  }

  /**
   * Starts configuring a cache whose clients {@code factory} builds asynchronously.
   *
   * @param <K> the key type
   * @param <S> the spec type
   * @param <C> the client type
   * @param factory starts a key's build and returns promptly; its stage yields the client
   * @return a builder with the defaults each of its methods names
   */
  public static <K, S, C> ClientCacheBuilder<K, S, C> asyncBuilder(
      AsyncClientFactory<K, S, C> factory) {
    return new ClientCacheBuilder<>(Objects.requireNonNull(factory, "factory"), null);
  }

  // ---------------------------------------------------------------- public API

  /**
   * Records that {@code key} has {@code spec} at {@code version}.
   *
   * @param key the key; not null, and not blank if it is text
   * @param spec the new spec; not null
   * @param version the store's version of the change, zero or more; versions grow per key
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
   * @param key the key to delete; not null, and not blank if it is text
   * @param version the store's version of the delete, zero or more
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
   *
   * @param all every key with its spec and version; copied, no key or value may be null
   */
  public final void resync(Map<K, Versioned<S>> all) {
    intake.resync(Arguments.copyOf(all), EventIntake.API, SourceSupervisor.UNKNOWN);
  }

  /**
   * Applies {@code all} as the complete truth as of version {@code asOfVersion} (an etcd header
   * revision, a Kubernetes list resourceVersion): upserts every entry, and deletes every absent
   * key not newer than {@code asOfVersion}, leaving a tombstone at that version.
   *
   * @param all every key with its spec and version; copied, no key or value may be null
   * @param asOfVersion the store version the listing was taken at, zero or more
   */
  public final void resync(Map<K, Versioned<S>> all, long asOfVersion) {
    long asOf = Arguments.version(asOfVersion, "resync");
    intake.resync(Arguments.copyOf(all), EventIntake.API, asOf);
  }

  /**
   * The entry of {@code key} (a tombstone for a deleted key); never blocks or allocates a lock.
   *
   * @param key the key to look up; not null
   * @return the entry as of now; empty for a key never seen or whose tombstone was purged
   */
  public final Optional<Snapshot<K, S, C>> snapshot(K key) {
    Entry<K, S, C> entry = table.get(Objects.requireNonNull(key, "key"));
    return entry == null ? Optional.empty() : table.visible(entry.node()).view();
  }

  /**
   * Every live entry; each snapshot is consistent on its own.
   *
   * @return a new list, in no particular order, without tombstones; not one consistent cut
   */
  public final List<Snapshot<K, S, C>> list() {
    List<Snapshot<K, S, C>> live = new ArrayList<>(table.size());
    for (Entry<K, S, C> entry : table.entries()) {
      Node<K, S, C> node = table.visible(entry.node());
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
   * waiting up to the acquire timeout. The holder is the calling thread's name
   * ("thread #" and its id if the name is blank).
   *
   * @param key the key whose client to lease
   * @return an open lease; close it (try-with-resources) when done with the client
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
   *
   * @param key the key whose client to lease
   * @return completes with an open lease, which the caller closes
   */
  public final CompletableFuture<ClientLease<C>> acquireAsync(K key) {
    Arguments.key(key);
    return Arguments.failedIfThrows(() -> leases.acquireAsync(key));
  }

  /**
   * A lease on a client of {@code key} built from version {@code minVersion} or newer, once there
   * is one; fails after the acquire timeout with {@link ClientUnavailableException}, at once with
   * {@link NoSuchElementException} for a key never seen or removed.
   *
   * @param key the key whose client to lease
   * @param minVersion the oldest spec version the leased client may be built from
   * @return completes with an open lease, which the caller closes
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
        Arguments.version(storeVersion, key), Arguments.holder()));
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
        Arguments.holder()));
  }

  /**
   * Reports that the client {@code key} serves fails in use (401, connection refused): the key goes
   * STALE and rebuilds (a backoff in progress is kept); until then that client is served only under
   * {@link Freshness#boundedStaleness}, never under {@link Freshness#strict()} (C11). Its leases are
   * told once the replacement is served (C10). {@link ClientLease#reportFailure} reports one client.
   *
   * @param key the key whose served client failed
   * @param cause recorded as the key's last error
   * @return whether a client was served to mark (false: nothing served yet)
   * @throws NoSuchElementException if the key was never seen or was removed
   */
  public final boolean invalidate(K key, Throwable cause) {
    return leases.invalidate(Arguments.key(key), Objects.requireNonNull(cause, "cause"));
  }

  /**
   * Rebuilds every entry whose spec depends on {@code dependency} (as {@code dependsOn} says), in
   * the builder's {@link ClientCacheBuilder#dependencyWave wave}.
   *
   * @param dependency what changed, matched with {@code equals} against what {@code dependsOn}
   *     gave
   * @return completes when all of them serve a client built after this call; fails with the
   *     error of a failed canary, or of a dependent's build
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

  /** Starts the sources: the builder's last step, once the cache exists for them to feed. */
  ClientCache<K, S, C> startSources() {
    sources.startAll();
    return this;
  }

  /** Number of dependencies indexed; for tests. */
  int indexedDependencies() {
    return index.dependencies();
  }

  @Override
  public String toString() {
    return "ClientCache[" + name + ", " + table.size() + " entries]";
  }
}
