package dev.statewright.cache;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.internal.BuildEvent;
import dev.statewright.internal.TransitionEvent;
import dev.statewright.lease.Lease;
import dev.statewright.lease.LeasedResource;
import dev.statewright.lease.ResourceReleasedException;
import dev.statewright.lifecycle.Lifecycle;
import dev.statewright.lifecycle.Transition;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

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
 * included (C8); a change to a dependency rebuilds its dependents (C9).
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
   * Overview: a ConcurrentHashMap of Entry; each Entry is one volatile reference to an immutable
   * Node holding everything the key knows (state, desired and served spec, the build in flight,
   * backoff, waiters).
   *
   * Concurrency: every change is `update(entry, f)`: compute f(node) and CAS it in; retry on a
   * lost race. f is pure (it may run more than once); its effects (launching a build, retiring a
   * client, completing waiters, scheduling a retry) run once, after the CAS, in `afterUpdate`,
   * derived from the difference between the two nodes. No lock is held anywhere, so listeners and
   * user callbacks never run under one. Single flight (C1) follows from the node holding at most
   * one BuildRun; coalescing (C3) from builds always taking the newest desired spec. User code
   * (factory, closer, listener, change policy, dependsOn) is isolated with Throwable: a listener
   * by `safely`, a factory by failing its stage, a change policy or dependsOn by RejectedSpec,
   * which the upsert records against its key. The bulkhead (BuildGate) drains iteratively, so a
   * factory that completes at once never recurses; close() and an insert each re-check the other
   * (closed flag vs. map slot), so no entry outlives close.
   *
   * Transitions (LIFECYCLE, checked on every edit by Node.Draft):
   *   STALE      -> REBUILDING  BUILD_STARTED         STALE -> STALE  SPEC/METADATA/DEPENDENCY_CHANGED
   *   REBUILDING -> CURRENT     BUILD_SUCCEEDED       REBUILDING -> REBUILDING  BUILD_SUPERSEDED, *_CHANGED
   *   REBUILDING -> STALE       BUILD_FAILED, BUILD_ABANDONED   CURRENT -> STALE  SPEC_CHANGED, DEPENDENCY_CHANGED
   *   CURRENT    -> CURRENT     METADATA_CHANGED      any live state -> REMOVED  DELETED (terminal)
   *
   * Ordering of this file: lifecycle and fields, public API, event handling, builds, acquire,
   * the update/effects core, helpers, waiters, the sink, the builder.
   */

  /** The entry lifecycle; {@code specs/repository-lifecycle.md} holds the same diagram. */
  public static final Lifecycle<EntryState, EntryEvent> LIFECYCLE = entryLifecycle();

  private static final System.Logger LOG = System.getLogger(ClientCache.class.getName());
  /** The origin of events given through the public API; its resync covers every key. */
  private static final int API = 0;
  /** A resync that did not say as of which version it is. */
  private static final long UNKNOWN = -1;

  private final String name;
  /** Exactly one of the two factories is set. */
  private final AsyncClientFactory<K, S, C> asyncFactory;
  private final ClientFactory<K, S, C> blockingFactory;
  private final ChangePolicy<S> changePolicy;
  private final Freshness freshness;
  private final Scheduler scheduler;
  private final Backoff backoff;
  private final Duration buildTimeout;
  private final Duration acquireTimeout;
  private final Duration tombstoneRetention;
  /** Abandon a build that ran this long when a newer rebuild-worthy spec arrives; null: never. */
  private final Duration supersede;
  private final Function<? super S, ? extends Collection<?>> dependsOn;
  private final Consumer<? super C> closer;
  private final CacheListener<K> listener;
  private final ConcurrentHashMap<K, Entry<K, S, C>> entries = new ConcurrentHashMap<>();
  /** dependency -> keys whose spec may read it; a superset, checked against each node. */
  private final ConcurrentHashMap<Object, Set<K>> dependents = new ConcurrentHashMap<>();
  private final BuildGate gate;
  private final SourceSupervisor<K, S> sources;
  private final ConsistentReads<K, S, C> consistentReads;
  private final AtomicBoolean closed = new AtomicBoolean();

  private ClientCache(Builder<K, S, C> b) {
    this.name = b.name;
    this.asyncFactory = b.asyncFactory;
    this.blockingFactory = b.factory;
    this.changePolicy = b.changePolicy;
    this.freshness = b.freshness;
    this.scheduler = b.scheduler != null ? b.scheduler : Scheduler.system();
    this.backoff = b.backoff;
    this.buildTimeout = b.buildTimeout;
    this.acquireTimeout = b.acquireTimeout;
    this.tombstoneRetention = b.tombstoneRetention;
    this.supersede = b.supersede;
    this.dependsOn = b.dependsOn;
    this.closer = b.closer;
    this.listener = b.listener;
    this.gate = new BuildGate(b.maxConcurrentBuilds, this::tryStartBuild);
    this.sources = new SourceSupervisor<>(name, b.sources, Sink::new, this.scheduler, backoff);
    this.consistentReads = new ConsistentReads<>(name, b.sources, this.scheduler, acquireTimeout,
        new ConsistentReads.Entries<>() {
          @Override
          public int ownerOf(K key) {
            return owner(key);
          }

          @Override
          public CompletableFuture<Lease<C>> leaseOnDesired(K key, String holder) {
            return leaseOnSpecWantedNow(key, holder);
          }
        });
  }

  /** Starts configuring a cache whose clients {@code factory} builds, blocking a worker thread. */
  public static <K, S, C> Builder<K, S, C> builder(ClientFactory<K, S, C> factory) {
    Objects.requireNonNull(factory, "factory");
    return new Builder<>(null, factory);
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
    requireKey(key);
    Objects.requireNonNull(spec, () -> "spec of " + key);
    SnapshotWaiter waiter = new SnapshotWaiter(requireVersion(version, key), 0);
    doUpsert(key, spec, version, API, waiter);
    return waiter.future;
  }

  /**
   * Deletes {@code key} at {@code version}, leaving a tombstone so that older upserts are ignored;
   * its client is released when its last lease closes.
   *
   * @return completes when the key is removed; fails with {@link StaleVersionException} if the
   *     key holds {@code version} or newer
   */
  public final CompletableFuture<Void> delete(K key, long version) {
    return doDelete(requireKey(key), requireVersion(version, key));
  }

  /**
   * Applies {@code all} as the complete truth: upserts every entry, deletes every absent key. The
   * deletions leave soft tombstones, which a later resync listing the key at the same version
   * undoes: a snapshot that does not say how old it is may be older than what it deletes.
   */
  public final void resync(Map<K, Versioned<S>> all) {
    doResync(copyOf(all), API, UNKNOWN);
  }

  /**
   * Applies {@code all} as the complete truth as of version {@code asOfVersion} (an etcd header
   * revision, a Kubernetes list resourceVersion): upserts every entry, and deletes every absent
   * key not newer than {@code asOfVersion}, leaving a tombstone at that version.
   */
  public final void resync(Map<K, Versioned<S>> all, long asOfVersion) {
    doResync(copyOf(all), API, requireVersion(asOfVersion, "resync"));
  }

  /** The entry of {@code key} (a tombstone for a deleted key); never blocks or allocates a lock. */
  public final Optional<Snapshot<K, S, C>> snapshot(K key) {
    Entry<K, S, C> entry = entries.get(Objects.requireNonNull(key, "key"));
    return entry == null ? Optional.empty() : entry.node().view();
  }

  /** Every live entry; each snapshot is consistent on its own. */
  public final List<Snapshot<K, S, C>> list() {
    List<Snapshot<K, S, C>> live = new ArrayList<>(entries.size());
    for (Entry<K, S, C> entry : entries.values()) {
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
    int indexed = 0;
    for (Set<K> keys : dependents.values()) {
      indexed += keys.size();
    }
    return new Footprint(gate.available(), indexed);
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
  public final Lease<C> acquire(K key) {
    return doAcquire(requireKey(key));
  }

  /**
   * {@link #acquire} without blocking: completes with a lease as fresh as the cache's
   * {@link Freshness} requires, or fails as {@code acquire} would throw.
   */
  public final CompletableFuture<Lease<C>> acquireAsync(K key) {
    requireKey(key);
    try {
      return doAcquireAsync(key);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * A lease on a client of {@code key} built from version {@code minVersion} or newer, once there
   * is one; fails after the acquire timeout with {@link ClientUnavailableException}, at once with
   * {@link NoSuchElementException} for a key never seen or removed.
   */
  public final CompletableFuture<Lease<C>> acquireAsync(K key, long minVersion) {
    Entry<K, S, C> entry;
    try {
      entry = liveEntry(requireKey(key));
    } catch (NoSuchElementException | IllegalStateException missing) {
      return CompletableFuture.failedFuture(missing);
    }
    return awaitLease(entry, requireVersion(minVersion, key), 0, holder(), false);
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
  public final CompletableFuture<Lease<C>> acquireAsOf(K key, long storeVersion) {
    try {
      return consistentReads.acquireAsOf(requireKey(key), requireVersion(storeVersion, key),
          holder());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
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
  public final CompletableFuture<Lease<C>> acquireConsistent(K key) {
    try {
      return consistentReads.acquireConsistent(requireKey(key), holder());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Rebuilds every entry whose spec depends on {@code dependency} (as {@code dependsOn} says).
   *
   * @return completes when all of them serve a client built after this call
   */
  public final CompletableFuture<Void> dependencyChanged(Object dependency) {
    return doDependencyChanged(Objects.requireNonNull(dependency, "dependency"));
  }

  /**
   * Stops the sources, abandons builds and releases every client once its leases close.
   * Idempotent. Atomic with every other method: once it returns no entry is live, and an upsert
   * racing it either is removed by it or removes its own entry.
   */
  @Override
  public final void close() {
    if (closed.compareAndSet(false, true)) {
      sources.close();
      consistentReads.close(closedError());
      entries.values().forEach(e -> update(e, n -> n.isLive() ? removal(n, n.desiredVersion) : n));
    }
  }

  // ---------------------------------------------------------------- events

  /**
   * Applies an upsert; {@code waiter} (null when no one waits, as for a source's events) is told
   * when it is served or why it never will be.
   */
  private void doUpsert(K key, S spec, long version, int origin, SnapshotWaiter waiter) {
    try {
      upsertOrInsert(key, spec, version, origin, waiter);
    } catch (RejectedSpec r) {
      rejected(key, r.problem);
      failIfWaiting(waiter, r.problem);
    }
  }

  private void upsertOrInsert(K key, S spec, long version, int origin, SnapshotWaiter waiter) {
    for (;;) {
      if (closed.get()) {
        failIfWaiting(waiter, closedError());
        return;
      }
      Entry<K, S, C> entry = entries.get(key);
      if (entry == null || !entry.node().isLive()) {
        Node<K, S, C> tomb = entry == null ? null : entry.node();
        if (tomb != null && version <= tomb.desiredVersion) {
          failIfWaiting(waiter, new StaleVersionException("upsert of '" + key + "' at version "
              + version + " ignored: it was deleted at version " + tomb.desiredVersion));
          return;
        }
        if (insert(key, entry, spec, version, origin, waiter)) {
          return;
        }
        continue; // lost a race for the map slot
      }
      Update<K, S, C> u = update(entry, n -> upserted(n, spec, version, origin, waiter));
      if (u.next.isLive()) {
        if (u.changed() && u.next.cause == EntryEvent.SPEC_CHANGED) {
          supersedeOverdueBuild(entry);
        }
        if (u.changed() && u.next.cause != null) {
          invalidateDependents(key);
        }
        return;
      }
    }
  }

  private static void failIfWaiting(Waiter<?, ?, ?> waiter, Throwable error) {
    if (waiter != null) {
      waiter.fail(error);
    }
  }

  private boolean insert(K key, Entry<K, S, C> tomb, S spec, long version, int origin,
      SnapshotWaiter waiter) {
    Node<K, S, C> node = Node.<K, S, C>created(key, spec, version, dependencies(key, spec, version),
        origin, scheduler.nanoTime(),
        tomb == null ? new AtomicInteger() : tomb.node().abandonedRunning).withWaiter(waiter);
    Entry<K, S, C> fresh = new Entry<>(node);
    index(key, node.dependencies);
    if (tomb != null && tomb.node().displaced != null) {
      abandon(tomb.node().displaced); // the removed incarnation's build is given up first
    }
    boolean won = tomb == null ? entries.putIfAbsent(key, fresh) == null
        : entries.replace(key, tomb, fresh);
    if (won) {
      index(key, node.dependencies); // again, after a concurrent unindex of the old incarnation
      if (closed.get()) { // close() may have passed this key already: remove it ourselves
        update(fresh, n -> n.isLive() ? removal(n, n.desiredVersion) : n);
        return true;
      }
      gate.request(fresh);
      invalidateDependents(key);
    }
    return won;
  }

  private Node<K, S, C> upserted(Node<K, S, C> n, S spec, long version, int origin,
      SnapshotWaiter waiter) {
    if (!n.isLive()) {
      return n;
    }
    if (version == n.desiredVersion && !sameSpec(n, spec)) {
      throw new RejectedSpec(new StaleVersionException("upsert of '" + n.key + "' at version "
          + version + " conflicts with the different spec it already holds at that version;"
          + " a new spec needs a new version"));
    }
    if (version <= n.desiredVersion) {
      return n.withWaiter(waiter); // duplicate or reordered: wait for what is already coming
    }
    Collection<?> deps = dependencies(n.key, spec, version);
    index(n.key, deps);
    Node.Draft<K, S, C> d;
    if (classify(n, spec, version) == Change.REBUILD) {
      d = n.edit(EntryEvent.SPEC_CHANGED).staleFrom(scheduler.nanoTime());
      d.desiredRevision++;
      rebuildSoon(d);
    } else {
      d = n.edit(EntryEvent.METADATA_CHANGED);
      if (n.served != null && !n.behind()) { // same client, now known to fit the new spec
        d.served = new Served<>(spec, version, n.served.revision(), n.served.client());
        d.lastError = null; // a valid spec supersedes an earlier rejected one
      }
    }
    d.origin = origin;
    d.desiredSpec = spec;
    d.desiredVersion = version;
    d.dependencies = deps;
    if (waiter != null) {
      d.waiters.add(waiter);
    }
    return d.freeze();
  }

  private boolean sameSpec(Node<K, S, C> n, S spec) {
    try {
      return spec.equals(n.desiredSpec);
    } catch (Throwable t) {
      throw new RejectedSpec(badSpec(n.key, n.desiredVersion, "its equals", t));
    }
  }

  private Change classify(Node<K, S, C> n, S spec, long version) {
    try {
      return Objects.requireNonNull(changePolicy.classify(n.desiredSpec, spec), "classification");
    } catch (Throwable t) {
      throw new RejectedSpec(badSpec(n.key, version, "the change policy", t));
    }
  }

  private static IllegalArgumentException badSpec(Object key, long version, String what,
      Throwable t) {
    return new IllegalArgumentException("the spec of '" + key + "' at version " + version
        + " was rejected: " + what + " threw " + t, t);
  }

  /**
   * A REBUILD spec arrived: gives up a build that has run at least {@code supersede}, so the new
   * spec need not wait for a build that may hang (its late result is released).
   */
  private void supersedeOverdueBuild(Entry<K, S, C> entry) {
    if (supersede != null) {
      long now = scheduler.nanoTime();
      update(entry, n -> n.build != null && n.build.revision < n.desiredRevision
          && now - n.build.startNanos >= supersede.toNanos() ? buildAbandoned(n) : n);
    }
  }

  private static <K, S, C> Node<K, S, C> buildAbandoned(Node<K, S, C> n) {
    Node.Draft<K, S, C> d = n.edit(EntryEvent.BUILD_ABANDONED);
    d.build = null; // afterUpdate abandons it; its permit comes back when the call returns
    d.failures = 0;
    d.nextRetryNanos = 0;
    d.buildWanted = true;
    return d.freeze();
  }

  private CompletableFuture<Void> doDelete(K key, long version) {
    for (;;) {
      Entry<K, S, C> entry = entries.get(key);
      if (entry == null || !entry.node().isLive()) {
        // a tombstone never changes: a newer delete swaps in a new one, so a concurrent re-add
        // that read the old one fails its replace and reads again (C2)
        if (entry != null && version <= entry.node().desiredVersion) {
          return CompletableFuture.completedFuture(null);
        }
        Entry<K, S, C> tomb = new Entry<>(Node.tombstone(key, version,
            entry == null ? null : entry.node().displaced,
            entry == null ? new AtomicInteger() : entry.node().abandonedRunning));
        boolean swapped = entry == null ? entries.putIfAbsent(key, tomb) == null
            : entries.replace(key, entry, tomb);
        if (swapped) {
          scheduleTombstonePurge(tomb);
          return CompletableFuture.completedFuture(null);
        }
        continue;
      }
      Update<K, S, C> u = update(entry,
          n -> n.isLive() && version > n.desiredVersion ? removal(n, version) : n);
      if (!u.prev.isLive()) {
        continue; // removed meanwhile: delete the tombstone's way
      }
      if (!u.changed()) {
        return CompletableFuture.failedFuture(new StaleVersionException("delete of '" + key
            + "' at version " + version + " ignored: it holds version " + u.prev.desiredVersion));
      }
      return CompletableFuture.completedFuture(null);
    }
  }

  private Node<K, S, C> removal(Node<K, S, C> n, long version) {
    Node.Draft<K, S, C> d = n.edit(EntryEvent.DELETED);
    d.desiredVersion = version;
    d.served = null;
    d.displaced = n.build;
    d.build = null;
    d.buildWanted = false;
    d.nextRetryNanos = 0;
    d.waiters.clear();
    return d.freeze();
  }

  /**
   * Upserts {@code all}, and deletes the keys it lacks that {@code origin} delivered (any, for
   * the API). As of a known version, keys newer than it stay and the deleted get a tombstone at
   * it; as of an unknown one, every absent key goes, under a soft tombstone.
   */
  private void doResync(Map<K, Versioned<S>> all, int origin, long asOf) {
    all.forEach((key, v) -> resynced(requireKey(key), v.value(), v.version(), origin));
    for (Entry<K, S, C> entry : entries.values()) {
      Node<K, S, C> seen = entry.node();
      boolean absent = seen.isLive() && !all.containsKey(entry.key)
          && (origin == API || seen.origin == origin);
      if (absent && (asOf == UNKNOWN || seen.desiredVersion <= asOf)) {
        // unless it moved on meanwhile
        update(entry, n -> n != seen ? n : asOf == UNKNOWN ? soften(removal(n, n.desiredVersion))
            : removal(n, asOf));
      }
    }
  }

  /** A resync's upsert may re-add a key under a soft tombstone at the same version. */
  private void resynced(K key, S spec, long version, int origin) {
    Entry<K, S, C> entry = entries.get(key);
    if (entry != null && entry.node().soft && version == entry.node().desiredVersion
        && entries.remove(key, entry) && entry.node().displaced != null) {
      abandon(entry.node().displaced);
    }
    doUpsert(key, spec, version, origin, null);
  }

  private static <K, S, C> Node<K, S, C> soften(Node<K, S, C> tombstone) {
    Node.Draft<K, S, C> d = tombstone.edit(null);
    d.cause = tombstone.cause;
    d.soft = true;
    return d.freeze();
  }

  private CompletableFuture<Void> doDependencyChanged(Object dependency) {
    Set<K> keys = dependents.getOrDefault(dependency, Set.of());
    List<CompletableFuture<?>> rebuilt = new ArrayList<>(keys.size());
    for (K key : keys) {
      Entry<K, S, C> entry = entries.get(key);
      if (entry == null) {
        continue;
      }
      List<SnapshotWaiter> made = new ArrayList<>(1);
      Update<K, S, C> u = update(entry, n -> dependencyRebuild(n, dependency, made));
      if (u.changed()) {
        rebuilt.add(made.get(made.size() - 1).future);
      }
    }
    return CompletableFuture.allOf(rebuilt.toArray(CompletableFuture<?>[]::new));
  }

  private Node<K, S, C> dependencyRebuild(Node<K, S, C> n, Object dependency,
      List<SnapshotWaiter> made) {
    if (!n.isLive() || !n.dependencies.contains(dependency)) {
      return n;
    }
    Node.Draft<K, S, C> d = n.edit(EntryEvent.DEPENDENCY_CHANGED).staleFrom(scheduler.nanoTime());
    d.desiredRevision++;
    rebuildSoon(d);
    SnapshotWaiter waiter = new SnapshotWaiter(0, d.desiredRevision);
    made.add(waiter);
    d.waiters.add(waiter);
    return d.freeze();
  }

  /** A cache key other entries depend on changed: they rebuild (C9). */
  private void invalidateDependents(K key) {
    if (dependents.containsKey(key)) {
      doDependencyChanged(key);
    }
  }

  /** A bad spec or event for {@code key}: logged, told to the listener, recorded as its last error. */
  private void rejected(K key, Exception problem) {
    LOG.log(System.Logger.Level.WARNING, () -> name + ": rejected a spec for '" + key + "': "
        + problem.getMessage());
    safely(() -> listener.onRejected(key, problem));
    Entry<K, S, C> entry = entries.get(key);
    if (entry != null) {
      update(entry, n -> {
        if (!n.isLive()) {
          return n;
        }
        Node.Draft<K, S, C> d = n.edit(null);
        d.lastError = problem;
        return d.freeze();
      });
    }
  }

  // ---------------------------------------------------------------- builds

  /** A rebuild-worthy change resets the backoff; a build in flight is followed by one more. */
  private static <K, S, C> void rebuildSoon(Node.Draft<K, S, C> d) {
    d.failures = 0;
    d.nextRetryNanos = 0;
    d.buildWanted = d.state == EntryState.STALE;
  }

  @SuppressWarnings("unchecked") // the gate only ever holds this cache's entries
  private boolean tryStartBuild(Entry<?, ?, ?> queued) {
    Entry<K, S, C> entry = (Entry<K, S, C>) queued;
    return update(entry, n -> {
      if (n.state != EntryState.STALE || !n.buildWanted) {
        return n;
      }
      Node.Draft<K, S, C> d = n.edit(EntryEvent.BUILD_STARTED);
      d.build = newestBuild(n);
      d.buildWanted = false;
      return d.freeze();
    }).changed();
  }

  private void launch(Entry<K, S, C> entry, BuildRun<S> run) {
    if (!run.beginLaunch()) {
      return; // abandoned before it started: whoever abandoned it gave the permit back
    }
    safely(() -> listener.onBuildStarted(entry.key, run.version));
    if (!buildTimeout.isZero()) {
      run.timeout(scheduler.schedule(() -> timedOut(entry, run), buildTimeout));
    }
    BuildEvent jfr = new BuildEvent();
    jfr.begin();
    CompletableFuture<C> stage = start(entry.key, run);
    run.launched(blockingFactory == null ? stage : null); // a blocking call is interrupted instead
    stage.whenComplete((client, error) -> builtSafely(entry, run, jfr, client, error));
  }

  private CompletableFuture<C> start(K key, BuildRun<S> run) {
    if (blockingFactory == null) {
      try {
        return asyncFactory.build(key, run.spec).toCompletableFuture();
      } catch (Throwable t) { // any Throwable, a StackOverflowError included, fails this build
        return CompletableFuture.failedFuture(t);
      }
    }
    CompletableFuture<C> result = new CompletableFuture<>();
    scheduler.execute(() -> runBlocking(key, run, result));
    return result;
  }

  /** A blocking factory runs on a scheduler thread, interruptible by the build timeout. */
  private void runBlocking(K key, BuildRun<S> run, CompletableFuture<C> result) {
    if (!run.enter()) {
      result.cancel(false); // abandoned before it started
      return;
    }
    try {
      C client = blockingFactory.build(key, run.spec);
      if (!result.complete(client)) {
        discard(client); // abandoned while it ran: the late client is closed unseen
      }
    } catch (Throwable t) { // any Throwable, a StackOverflowError included, fails this build
      result.completeExceptionally(t);
    } finally {
      run.exit();
    }
  }

  /** The build's call ended; nothing thrown here may lose its permit or leave it REBUILDING. */
  private void builtSafely(Entry<K, S, C> entry, BuildRun<S> run, BuildEvent jfr, C client,
      Throwable failure) {
    run.ended();
    try {
      built(entry, run, jfr, client, failure);
    } catch (Throwable t) {
      LOG.log(System.Logger.Level.ERROR, () -> name + ": finishing the build of '" + entry.key
          + "' failed", t);
      try {
        update(entry, n -> n.build == run ? failed(n, run, t) : n);
      } finally {
        returnPermit(run); // a no-op if it passed to the next build
      }
    }
  }

  private void built(Entry<K, S, C> entry, BuildRun<S> run, BuildEvent jfr, C client,
      Throwable failure) {
    Throwable error = failure instanceof CompletionException ? failure.getCause() : failure;
    if (error == null && client == null) {
      error = new NullPointerException("factory returned null for '" + entry.key
          + "' at version " + run.version);
    }
    long nanos = scheduler.nanoTime() - run.startNanos;
    recordBuild(jfr, entry.key, run.version, error);
    Throwable outcome = error;
    safely(() -> listener.onBuildFinished(entry.key, run.version, nanos, outcome));
    finished(entry, run, client, error);
  }

  private void finished(Entry<K, S, C> entry, BuildRun<S> run, C client, Throwable error) {
    Update<K, S, C> u = update(entry, n -> n.build != run ? n
        : error == null ? succeeded(n, run, client) : failed(n, run, error));
    if (!u.changed()) { // deleted, closed or timed out meanwhile
      discard(client);
      returnPermit(run);
    } else if (u.next.build != null) {
      run.returnPermit(); // superseded: the permit passes to the next build
    } else {
      returnPermit(run);
    }
  }

  private Node<K, S, C> succeeded(Node<K, S, C> n, BuildRun<S> run, C client) {
    boolean newest = run.revision == n.desiredRevision;
    Node.Draft<K, S, C> d = n.edit(newest ? EntryEvent.BUILD_SUCCEEDED : EntryEvent.BUILD_SUPERSEDED);
    S spec = newest ? n.desiredSpec : run.spec;
    long version = newest ? n.desiredVersion : run.version;
    assert n.served == null || version >= n.served.version() : "served version went back";
    d.served = new Served<>(spec, version, run.revision, LeasedResource.counted(
        n.key + "@v" + version, client, released(n.key, version), scheduler));
    d.lastError = null;
    d.failures = 0;
    d.nextRetryNanos = 0;
    d.build = newest ? null : newestBuild(n);
    return d.freeze();
  }

  /** A build of the newest desired spec; every build builds that, never an older one (C3). */
  private BuildRun<S> newestBuild(Node<K, S, C> n) {
    return new BuildRun<>(n.desiredSpec, n.desiredVersion, n.desiredRevision, scheduler.nanoTime(),
        n.abandonedRunning);
  }

  private Node<K, S, C> failed(Node<K, S, C> n, BuildRun<S> run, Throwable error) {
    Node.Draft<K, S, C> d = n.edit(EntryEvent.BUILD_FAILED);
    d.build = null;
    d.lastError = error;
    d.waiters.removeIf(w -> w.failsWith(run));
    if (run.revision < n.desiredRevision) { // a newer spec arrived meanwhile: try it at once
      d.failures = 0;
      d.buildWanted = true;
      d.nextRetryNanos = 0;
    } else {
      d.failures = n.failures + 1;
      d.buildWanted = false;
      d.nextRetryNanos = scheduler.nanoTime()
          + Math.max(1, backoff.delay(d.failures, scheduler.random()).toNanos());
    }
    return d.freeze();
  }

  private void timedOut(Entry<K, S, C> entry, BuildRun<S> run) {
    TimeoutException error = new TimeoutException("build of '" + entry.key + "' at version "
        + run.version + " exceeded the build timeout of " + buildTimeout);
    update(entry, n -> n.build == run ? failed(n, run, error) : n); // afterUpdate abandons it
  }

  private void retryDue(Entry<K, S, C> entry, long due) {
    update(entry, n -> {
      if (n.state != EntryState.STALE || n.buildWanted || n.nextRetryNanos != due) {
        return n;
      }
      Node.Draft<K, S, C> d = n.edit(null);
      d.buildWanted = true;
      d.nextRetryNanos = 0;
      return d.freeze();
    });
  }

  private void returnPermit(BuildRun<S> run) {
    if (run.returnPermit()) {
      gate.release();
    }
  }

  /** Gives {@code run} up; its permit comes back now if the factory was never called. */
  private void abandon(BuildRun<S> run) {
    if (run.abandon()) {
      returnPermit(run);
    }
  }

  private Consumer<C> released(K key, long version) {
    return client -> {
      discard(client);
      safely(() -> listener.onClientReleased(key, version));
    };
  }

  private void discard(C client) {
    if (client != null) {
      isolated("closing a client", () -> closer.accept(client));
    }
  }

  // ---------------------------------------------------------------- acquire

  private Lease<C> doAcquire(K key) {
    Entry<K, S, C> entry = liveEntry(key);
    Lease<C> lease = tryLease(entry);
    return lease != null ? lease : join(awaitFresh(entry));
  }

  private CompletableFuture<Lease<C>> doAcquireAsync(K key) {
    Entry<K, S, C> entry = liveEntry(key);
    Lease<C> lease = tryLease(entry);
    return lease != null ? CompletableFuture.completedFuture(lease) : awaitFresh(entry);
  }

  private Entry<K, S, C> liveEntry(K key) {
    Entry<K, S, C> entry = entries.get(key);
    if (entry == null || !entry.node().isLive()) {
      throw missing(key, entry);
    }
    return entry;
  }

  /** A lease on the served client if the freshness policy allows it now; null to wait. */
  private Lease<C> tryLease(Entry<K, S, C> entry) {
    for (;;) {
      Node<K, S, C> n = entry.node();
      if (!n.isLive()) {
        throw missing(entry.key, entry);
      }
      if (n.served == null || !servable(n)) {
        return null;
      }
      try {
        return n.served.client().acquire(holder());
      } catch (ResourceReleasedException replaced) {
        // a newer client took its place between our read and our lease: read again
      }
    }
  }

  /** Waits for a client built from the spec known now (or newer). */
  private CompletableFuture<Lease<C>> awaitFresh(Entry<K, S, C> entry) {
    return awaitLease(entry, 0, entry.node().desiredRevision, holder(), true);
  }

  private boolean servable(Node<K, S, C> n) {
    return !n.behind() || freshness.tolerates(scheduler.nanoTime() - n.staleSinceNanos);
  }

  /** {@code failFast}: fail at once when the build waited for fails, instead of at the timeout. */
  private CompletableFuture<Lease<C>> awaitLease(Entry<K, S, C> entry, long minVersion,
      long minRevision, String holder, boolean failFast) {
    LeaseWaiter waiter = new LeaseWaiter(entry, minVersion, minRevision, holder, failFast);
    Update<K, S, C> u = update(entry, n -> n.isLive() ? n.withWaiter(waiter) : n);
    if (!u.next.isLive()) {
      waiter.fail(missing(entry.key, entry));
    } else if (!waiter.isDone()) {
      Scheduler.Cancellable timer =
          scheduler.schedule(() -> waiter.fail(unavailable(entry)), acquireTimeout);
      waiter.future.whenComplete((lease, error) -> timer.cancel());
    }
    return waiter.future;
  }

  private Lease<C> join(CompletableFuture<Lease<C>> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  private ClientUnavailableException unavailable(Entry<K, S, C> entry) {
    Node<K, S, C> n = entry.node();
    return new ClientUnavailableException("no client for '" + entry.key + "' within "
        + acquireTimeout + " (" + n.state + ", desired version " + n.desiredVersion + ", "
        + (n.served == null ? "nothing served" : "serving version " + n.served.version())
        + (n.lastError == null ? ")" : ", last error: " + n.lastError + ")"), n.lastError);
  }

  /** The origin of the source that delivered {@code key}'s live entry, for consistent reads. */
  private int owner(K key) {
    Entry<K, S, C> entry = entries.get(key);
    return entry == null || !entry.node().isLive() ? ConsistentReads.NO_OWNER
        : entry.node().origin;
  }

  /** For consistent reads: waits (strictly) for a client of the spec {@code key} wants now. */
  private CompletableFuture<Lease<C>> leaseOnSpecWantedNow(K key, String holder) {
    Entry<K, S, C> entry = entries.get(key);
    if (entry == null || !entry.node().isLive()) {
      return CompletableFuture.failedFuture(missing(key, entry));
    }
    return awaitLease(entry, 0, entry.node().desiredRevision, holder, true);
  }

  private RuntimeException missing(Object key, Entry<K, S, C> entry) {
    if (closed.get()) {
      return closedError();
    }
    if (entry == null) {
      return new NoSuchElementException("no entry for '" + key + "' in " + name);
    }
    return new NoSuchElementException("'" + key + "' was removed from " + name + " at version "
        + entry.node().desiredVersion);
  }

  private IllegalStateException closedError() {
    return new IllegalStateException(name + " is closed");
  }

  private static String holder() {
    return Thread.currentThread().getName();
  }

  // ---------------------------------------------------------------- the update core

  /** The two nodes of one update; {@code prev == next} when f changed nothing. */
  private record Update<K, S, C>(Node<K, S, C> prev, Node<K, S, C> next) {
    boolean changed() {
      return prev != next;
    }
  }

  /** CASes {@code f(node)} in, retrying on a lost race, then runs the effects exactly once. */
  private Update<K, S, C> update(Entry<K, S, C> entry, UnaryOperator<Node<K, S, C>> f) {
    for (;;) {
      Node<K, S, C> prev = entry.node();
      Node<K, S, C> next = f.apply(prev);
      if (next == prev) {
        return new Update<>(prev, prev);
      }
      List<Waiter<K, S, C>> settled = next.settledWaiters();
      if (!settled.isEmpty()) {
        next = next.without(settled);
      }
      if (entry.compareAndSet(prev, next)) {
        afterUpdate(entry, prev, next, settled);
        return new Update<>(prev, next);
      }
    }
  }

  private void afterUpdate(Entry<K, S, C> entry, Node<K, S, C> prev, Node<K, S, C> next,
      List<Waiter<K, S, C>> settled) {
    if (next.cause != null) {
      emit(entry.key, new Transition<>(prev.state, next.cause, next.state),
          next.cause == EntryEvent.BUILD_FAILED ? next.lastError : null);
    }
    if (prev.served != null && (next.served == null || next.served.client() != prev.served.client())) {
      prev.served.client().retire(); // C6: closed when its last lease closes
    }
    if (prev.build != null && prev.build != next.build && !prev.build.hasEnded()) {
      abandon(prev.build); // timed out, superseded or removed: cancelled or interrupted (C1)
    }
    if (next.build != null && next.build != prev.build) {
      launch(entry, next.build);
    }
    if (next.state == EntryState.STALE && next.buildWanted
        && !(prev.state == EntryState.STALE && prev.buildWanted)) {
      gate.request(entry);
    }
    if (next.nextRetryNanos != 0 && next.nextRetryNanos != prev.nextRetryNanos) {
      long due = next.nextRetryNanos;
      scheduler.schedule(() -> retryDue(entry, due),
          Duration.ofNanos(Math.max(0, due - scheduler.nanoTime())));
    }
    settleWaiters(entry, prev, next, settled);
    if (prev.isLive() && !next.isLive()) {
      unindex(entry.key, prev.dependencies);
      if (!closed.get()) {
        scheduleTombstonePurge(entry);
        invalidateDependents(entry.key);
      }
    } else if (prev.dependencies != next.dependencies) {
      unindexDropped(entry.key, prev.dependencies, next.dependencies);
    }
  }

  private void settleWaiters(Entry<K, S, C> entry, Node<K, S, C> prev, Node<K, S, C> next,
      List<Waiter<K, S, C>> settled) {
    for (Waiter<K, S, C> w : settled) {
      if (!w.isDone()) {
        w.serve(next);
      }
    }
    for (Waiter<K, S, C> w : prev.waiters) {
      if (!next.waiters.contains(w) && !settled.contains(w)) {
        if (next.isLive()) {
          w.buildFailed(next.lastError);
        } else {
          w.fail(missing(entry.key, entry));
        }
      }
    }
  }

  private void emit(K key, Transition<EntryState, EntryEvent> t, Throwable error) {
    TransitionEvent.emit(LIFECYCLE.name(), key, t.from(), t.event(), t.to());
    LOG.log(error == null ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
        () -> name + " '" + key + "': " + t + (error == null ? "" : " (" + error + ")"));
    safely(() -> listener.onTransition(key, t));
  }

  private static void recordBuild(BuildEvent jfr, Object key, long version, Object outcome) {
    if (jfr.shouldCommit()) {
      jfr.key = String.valueOf(key);
      jfr.version = version;
      jfr.outcome = outcome == null ? "built" : String.valueOf(outcome);
      jfr.commit();
    }
  }

  // ---------------------------------------------------------------- helpers

  private void scheduleTombstonePurge(Entry<K, S, C> tomb) {
    scheduler.schedule(() -> entries.remove(tomb.key, tomb), tombstoneRetention);
  }

  private Collection<?> dependencies(K key, S spec, long version) {
    try {
      Collection<?> deps = dependsOn.apply(spec);
      return deps == null || deps.isEmpty() ? List.of() : List.copyOf(deps);
    } catch (Throwable t) {
      throw new RejectedSpec(badSpec(key, version, "dependsOn", t));
    }
  }

  /*
   * The dependency index holds only live keys. It is a superset of what the nodes say: a key is
   * indexed before the CAS that gives it a dependency and again after it, and unindexed after the
   * CAS that drops it; an unindex then reads the key's current node and puts the key back if it
   * depends on the dependency after all, so a concurrent re-add is never lost.
   */
  private void index(K key, Collection<?> deps) {
    for (Object dep : deps) {
      dependents.compute(dep, (d, keys) -> {
        Set<K> set = keys != null ? keys : ConcurrentHashMap.newKeySet();
        set.add(key);
        return set;
      });
    }
  }

  private void unindex(K key, Collection<?> deps) {
    for (Object dep : deps) {
      dependents.computeIfPresent(dep, (d, keys) -> {
        keys.remove(key);
        return keys.isEmpty() ? null : keys;
      });
      Entry<K, S, C> now = entries.get(key);
      Node<K, S, C> n = now == null ? null : now.node();
      if (n != null && n.isLive() && n.dependencies.contains(dep)) {
        index(key, List.of(dep));
      }
    }
  }

  private void unindexDropped(K key, Collection<?> before, Collection<?> after) {
    List<Object> dropped = new ArrayList<>(before);
    dropped.removeAll(after);
    unindex(key, dropped);
  }

  /** Number of dependencies indexed; for tests. */
  int indexedDependencies() {
    return dependents.size();
  }

  /** Runs a listener callback; nothing it throws reaches the engine. */
  private void safely(Runnable callback) {
    isolated("a listener", callback);
  }

  /** Runs user code; any Throwable it throws is logged and goes no further. */
  private void isolated(String what, Runnable callback) {
    try {
      callback.run();
    } catch (Throwable t) {
      LOG.log(System.Logger.Level.WARNING, () -> name + ": " + what + " failed", t);
    }
  }

  /** A spec the engine cannot take, thrown out of an update function and recorded against its key. */
  private static final class RejectedSpec extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient Exception problem;

    RejectedSpec(Exception problem) {
      super(problem.getMessage(), problem, false, false);
      this.problem = problem;
    }
  }

  private static <K, S> Map<K, Versioned<S>> copyOf(Map<K, Versioned<S>> all) {
    Objects.requireNonNull(all, "all");
    all.forEach((key, value) -> {
      Objects.requireNonNull(key, "a key of all");
      Objects.requireNonNull(value, () -> "the value of '" + key + "' in all");
    });
    return Map.copyOf(all);
  }

  private static <K> K requireKey(K key) {
    Objects.requireNonNull(key, "key");
    if (key instanceof CharSequence text && text.toString().isBlank()) {
      throw new IllegalArgumentException("key must not be blank");
    }
    return key;
  }

  private static long requireVersion(long version, Object key) {
    if (version < 0) {
      throw new IllegalArgumentException("version of '" + key + "' must be >= 0, got " + version);
    }
    return version;
  }

  @Override
  public String toString() {
    return "ClientCache[" + name + ", " + entries.size() + " entries]";
  }

  private static Lifecycle<EntryState, EntryEvent> entryLifecycle() {
    Lifecycle.Builder<EntryState, EntryEvent> b =
        Lifecycle.builder("cache-entry", EntryState.class, EntryEvent.class)
            .initial(EntryState.STALE)
            .permit(EntryState.STALE, EntryEvent.BUILD_STARTED, EntryState.REBUILDING)
            .permit(EntryState.REBUILDING, EntryEvent.BUILD_SUCCEEDED, EntryState.CURRENT)
            .permit(EntryState.REBUILDING, EntryEvent.BUILD_SUPERSEDED, EntryState.REBUILDING)
            .permit(EntryState.REBUILDING, EntryEvent.BUILD_FAILED, EntryState.STALE)
            .permit(EntryState.REBUILDING, EntryEvent.BUILD_ABANDONED, EntryState.STALE)
            .permit(EntryState.CURRENT, EntryEvent.SPEC_CHANGED, EntryState.STALE)
            .permit(EntryState.CURRENT, EntryEvent.DEPENDENCY_CHANGED, EntryState.STALE)
            .permit(EntryState.CURRENT, EntryEvent.METADATA_CHANGED, EntryState.CURRENT);
    for (EntryState s : List.of(EntryState.STALE, EntryState.REBUILDING)) {
      b.permit(s, EntryEvent.SPEC_CHANGED, s)
          .permit(s, EntryEvent.METADATA_CHANGED, s)
          .permit(s, EntryEvent.DEPENDENCY_CHANGED, s);
    }
    for (EntryState s : List.of(EntryState.STALE, EntryState.REBUILDING, EntryState.CURRENT)) {
      b.permit(s, EntryEvent.DELETED, EntryState.REMOVED);
    }
    return b.terminal(EntryState.REMOVED).build();
  }

  // ---------------------------------------------------------------- waiters

  /** An upsert's or a dependency change's future: the snapshot once served. */
  private final class SnapshotWaiter extends Waiter<K, S, C> {
    final CompletableFuture<Snapshot<K, S, C>> future = new CompletableFuture<>();

    SnapshotWaiter(long minVersion, long minRevision) {
      super(minVersion, minRevision);
    }

    @Override
    boolean failsWith(BuildRun<S> run) {
      return run.version >= minVersion && run.revision >= minRevision;
    }

    @Override
    boolean isDone() {
      return future.isDone();
    }

    @Override
    void serve(Node<K, S, C> node) {
      future.complete(node.view().orElseThrow());
    }

    @Override
    void fail(Throwable error) {
      future.completeExceptionally(error);
    }
  }

  /** An acquire waiting for a fresh enough client: a lease once served. */
  private final class LeaseWaiter extends Waiter<K, S, C> {
    final CompletableFuture<Lease<C>> future = new CompletableFuture<>();
    private final Entry<K, S, C> entry;
    private final String holder;

    private final boolean failFast;

    LeaseWaiter(Entry<K, S, C> entry, long minVersion, long minRevision, String holder,
        boolean failFast) {
      super(minVersion, minRevision);
      this.entry = entry;
      this.holder = holder;
      this.failFast = failFast;
    }

    /** A freshness acquire fails with the build it waits for; a versioned one waits on. */
    @Override
    boolean failsWith(BuildRun<S> run) {
      return failFast && run.version >= minVersion && run.revision >= minRevision;
    }

    @Override
    void buildFailed(Throwable error) {
      fail(new ClientUnavailableException("no client for '" + entry.key + "': the build it waited"
          + " for failed (" + error + ")", error));
    }

    @Override
    boolean isDone() {
      return future.isDone();
    }

    @Override
    void serve(Node<K, S, C> node) {
      try {
        Lease<C> lease = node.served.client().acquire(holder);
        if (!future.complete(lease)) {
          lease.close(); // timed out meanwhile
        }
      } catch (ResourceReleasedException replaced) {
        awaitLease(entry, minVersion, minRevision, holder, failFast).whenComplete((lease, error) -> {
          if (error != null) {
            future.completeExceptionally(error);
          } else if (!future.complete(lease)) {
            lease.close();
          }
        });
      }
    }

    @Override
    void fail(Throwable error) {
      future.completeExceptionally(error);
    }
  }

  // ---------------------------------------------------------------- sink

  /** What one source delivers to: never throws back into it. Origins 1, 2, … in source order. */
  private final class Sink implements EventSink<K, S> {
    private final int origin;

    Sink(int origin) {
      this.origin = origin;
    }

    @Override
    public void upsert(K key, S spec, long version) {
      guarded("upsert", key, () -> doUpsert(requireKey(key),
          Objects.requireNonNull(spec, "spec"), requireVersion(version, key), origin, null));
    }

    @Override
    public void delete(K key, long version) {
      guarded("delete", key, () -> doDelete(requireKey(key), requireVersion(version, key)));
    }

    @Override
    public void resync(Map<K, Versioned<S>> all) {
      guarded("resync", null, () -> doResync(copyOf(all), origin, UNKNOWN));
    }

    @Override
    public void resync(Map<K, Versioned<S>> all, long asOfVersion) {
      guarded("resync", null, () -> doResync(copyOf(all), origin,
          requireVersion(asOfVersion, "resync")));
    }

    @Override
    public void progress(long version) {
      guarded("progress report at " + version, null, () -> consistentReads.progressed(origin,
          requireVersion(version, "progress")));
    }

    @Override
    public void reject(K key, Exception problem) {
      guarded("reject", key, () -> rejected(requireKey(key),
          Objects.requireNonNull(problem, "problem")));
    }

    @Override
    public void dependencyChanged(Object dependency) {
      guarded("dependency change", null, () -> doDependencyChanged(
          Objects.requireNonNull(dependency, "dependency")));
    }

    /** Runs one event; a bad one is logged and, if it names a key, recorded against it. */
    private void guarded(String what, K key, Runnable event) {
      if (closed.get()) {
        return;
      }
      try {
        event.run();
      } catch (Throwable t) {
        LOG.log(System.Logger.Level.WARNING, () -> name + ": ignored a bad " + what
            + (key == null ? "" : " of '" + key + "'") + " from a source: " + t);
        if (key != null) {
          isolated("recording a bad event", () -> rejected(key, t instanceof Exception e ? e
              : new IllegalArgumentException("bad " + what + " of '" + key + "': " + t, t)));
        }
      }
    }
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
    private Function<? super S, ? extends Collection<?>> dependsOn = spec -> List.of();
    private Consumer<? super C> closer = Builder::closeIfCloseable;
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
      if (maxConcurrentBuilds < 1) {
        throw new IllegalArgumentException("maxConcurrentBuilds must be >= 1, got "
            + maxConcurrentBuilds);
      }
      this.maxConcurrentBuilds = maxConcurrentBuilds;
      return this;
    }

    /**
     * A build running longer fails, is interrupted, and its late result is closed; default
     * 2 minutes, {@link Duration#ZERO} for none.
     */
    public Builder<K, S, C> buildTimeout(Duration buildTimeout) {
      this.buildTimeout = requireNotNegative(buildTimeout, "buildTimeout");
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
      this.supersede = requireNotNegative(after, "supersede");
      return this;
    }

    /** How long {@code acquire} waits for a fresh enough client; default 30 seconds. */
    public Builder<K, S, C> acquireTimeout(Duration acquireTimeout) {
      this.acquireTimeout = requireNotNegative(acquireTimeout, "acquireTimeout");
      return this;
    }

    /** How long a deleted key's tombstone outlives the delete; default 10 minutes. */
    public Builder<K, S, C> tombstoneRetention(Duration tombstoneRetention) {
      this.tombstoneRetention = requireNotNegative(tombstoneRetention, "tombstoneRetention");
      return this;
    }

    /** What else a spec reads (the Secret holding its token), for {@code dependencyChanged}. */
    public Builder<K, S, C> dependsOn(Function<? super S, ? extends Collection<?>> dependsOn) {
      this.dependsOn = Objects.requireNonNull(dependsOn, "dependsOn");
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

    private static Duration requireNotNegative(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative()) {
        throw new IllegalArgumentException(what + " must not be negative, got " + d);
      }
      return d;
    }

    private static void closeIfCloseable(Object client) {
      if (client instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          LOG.log(System.Logger.Level.WARNING, () -> "closing a client failed", e);
        }
      }
    }
  }
}
