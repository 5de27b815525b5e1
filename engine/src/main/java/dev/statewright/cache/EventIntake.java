package dev.statewright.cache;

import dev.statewright.event.Versioned;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Turns events, from the cache's API and from its sources alike, into updates: upserts, deletes,
 * resyncs, rejections and dependency changes. It decides which of {@link Node}'s moves an event
 * makes, preparing the values the move takes (the change policy's verdict, the dependencies, the
 * time), and says why an event was ignored.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
final class EventIntake<K, S, C> implements SourceSupervisor.Events<K, S> {
  /*
   * Overview: each event is one update of its key's slot (an upsert of an unseen or removed key
   * inserts a new incarnation, a delete of one swaps in a newer tombstone) or of each dependent
   * entry (a dependency change). User code consulted on the way (equals, the change policy,
   * dependsOn) runs inside the update function, at most once per call for dependsOn; whatever it
   * throws becomes a RejectedSpec, recorded against the key.
   *
   * Concurrency: no state of its own beyond the services it was given; update functions are pure
   * apart from that user code, and every effect runs in the update core after its CAS.
   *
   * Transitions: none of its own (see Node).
   *
   * Ordering of this file: fields, upsert, delete, resync, dependencies, rejections, the waiter.
   */
  private static final System.Logger LOG = System.getLogger("dev.statewright.cache.ClientCache");
  /** The origin of events given through the public API; its resync covers every key. */
  static final int API = 0;

  private final ChangePolicy<S> changePolicy;
  private final Function<? super S, ? extends Collection<?>> dependsOn;
  /** Abandon a build that ran this long when a newer rebuild-worthy spec arrives; null: never. */
  private final Duration supersede;
  /** Whether a {@link Change#RECONFIGURE} may update the live client (a reconfigurer is set). */
  private final boolean reconfigurable;
  private final Scheduler scheduler;
  private final UserCode<K, C> user;
  private final EntryTable<K, S, C> table;
  private final DependencyIndex<K> index;
  private final ConsistentReads<K, S, C> consistentReads;
  /** The waves of dependency changes; null for {@link Wave#all()}, which rebuilds at once. */
  private final DependencyWaves<K, S, C> waves;

  EventIntake(ChangePolicy<S> changePolicy,
      Function<? super S, ? extends Collection<?>> dependsOn, Duration supersede,
      boolean reconfigurable, Scheduler scheduler, UserCode<K, C> user, EntryTable<K, S, C> table,
      DependencyIndex<K> index, ConsistentReads<K, S, C> consistentReads, Wave wave) {
    this.changePolicy = changePolicy;
    this.dependsOn = dependsOn;
    this.supersede = supersede;
    this.reconfigurable = reconfigurable;
    this.scheduler = scheduler;
    this.user = user;
    this.table = table;
    this.index = index;
    this.consistentReads = consistentReads;
    this.waves = wave.isAll() ? null : new DependencyWaves<>(wave, scheduler, table,
        this::rebuildDependent);
  }

  // ---------------------------------------------------------------- upsert

  /** An upsert through the API: its future completes once {@code version} is served. */
  CompletableFuture<Snapshot<K, S, C>> upsert(K key, S spec, long version) {
    SnapshotWaiter waiter = new SnapshotWaiter(version, 0);
    upsert(key, spec, version, API, false, waiter);
    return waiter.future;
  }

  @Override
  public void upsert(K key, S spec, long version, int origin) {
    upsert(key, spec, version, origin, false, null);
  }

  /**
   * Applies an upsert; {@code waiter} (null when no one waits) is told when it is served or why it
   * never will be. {@code reAddsSoft}: a resync's upsert re-adds a key under a soft tombstone at
   * the same version.
   */
  private void upsert(K key, S spec, long version, int origin, boolean reAddsSoft,
      SnapshotWaiter waiter) {
    if (table.closed()) {
      failIfWaiting(waiter, table.missing(key, null));
      return;
    }
    try {
      Prepared prepared = new Prepared(key, spec, version, scheduler.nanoTime());
      EntryTable.Update<K, S, C> u = table.update(key,
          n -> upserted(n, prepared, origin, reAddsSoft, waiter));
      if (!u.changed() && !u.prev().isLive()) {
        failIfWaiting(waiter, new StaleVersionException("upsert of '" + key + "' at version "
            + version + " ignored: it was deleted at version " + u.prev().desiredVersion));
      }
    } catch (RejectedSpec r) {
      reject(key, r.problem);
      failIfWaiting(waiter, r.problem);
    }
  }

  private Node<K, S, C> upserted(Node<K, S, C> n, Prepared p, int origin, boolean reAddsSoft,
      SnapshotWaiter waiter) {
    if (n == null || !n.isLive()) {
      boolean newer = n == null || p.version > n.desiredVersion
          || reAddsSoft && n.soft() && p.version == n.desiredVersion;
      return !newer ? n : Node.created(p.key, p.spec, p.version, p.dependencies(), origin, p.now,
          n, waiter);
    }
    if (p.version == n.desiredVersion && !sameSpec(n, p.spec)) {
      throw new RejectedSpec(new StaleVersionException("upsert of '" + n.key() + "' at version "
          + p.version + " conflicts with the different spec it already holds at that version;"
          + " a new spec needs a new version"));
    }
    if (p.version <= n.desiredVersion) {
      return n.withWaiter(waiter); // duplicate or reordered: wait for what is already coming
    }
    return n.upserted(p.spec, p.version, origin, p.dependencies(), classify(n, p.spec, p.version),
        reconfigurable, p.now, waiter);
  }

  /** What an upsert's move takes, its dependencies asked of {@code dependsOn} once, if needed. */
  private final class Prepared {
    final K key;
    final S spec;
    final long version;
    final long now;
    private Collection<?> dependencies;

    Prepared(K key, S spec, long version, long now) {
      this.key = key;
      this.spec = spec;
      this.version = version;
      this.now = now;
    }

    Collection<?> dependencies() {
      if (dependencies == null) {
        try {
          Collection<?> deps = dependsOn.apply(spec);
          // hashed and compared here, where a throw rejects the spec, not in the index later
          dependencies = deps == null || deps.isEmpty() ? List.of()
              : List.copyOf(new LinkedHashSet<>(deps));
        } catch (Throwable t) {
          throw new RejectedSpec(badSpec(key, version, "dependsOn", t));
        }
      }
      return dependencies;
    }
  }

  private boolean sameSpec(Node<K, S, C> n, S spec) {
    try {
      return spec.equals(n.desiredSpec);
    } catch (Throwable t) {
      throw new RejectedSpec(badSpec(n.key(), n.desiredVersion, "its equals", t));
    }
  }

  private Change classify(Node<K, S, C> n, S spec, long version) {
    try {
      return Objects.requireNonNull(changePolicy.classify(n.desiredSpec, spec), "classification");
    } catch (Throwable t) {
      throw new RejectedSpec(badSpec(n.key(), version, "the change policy", t));
    }
  }

  /**
   * The effects of a SPEC_CHANGED node: gives up a build that has run at least {@code supersede},
   * so the new spec need not wait for a build that may hang (its late result is released).
   */
  void supersedeOverdueBuild(Entry<K, S, C> entry) {
    if (supersede != null) {
      long now = scheduler.nanoTime();
      table.update(entry, n -> n.build() != null && n.build().revision < n.desiredRevision
          && now - n.build().startNanos >= supersede.toNanos() ? n.buildAbandoned() : n);
    }
  }

  // ---------------------------------------------------------------- delete

  /** Deletes {@code key} at {@code version}, leaving a tombstone (C2). */
  @Override
  public void delete(K key, long version) {
    deleted(key, version);
  }

  CompletableFuture<Void> deleted(K key, long version) {
    // a tombstone never changes: a newer delete swaps in a new one, so a concurrent re-add that
    // read the old one fails its replace and reads again (C2)
    EntryTable.Update<K, S, C> u = table.update(key, n -> {
      if (n == null || !n.isLive()) {
        return n != null && version <= n.desiredVersion ? n : Node.tombstone(key, version, n);
      }
      return version > n.desiredVersion ? n.removed(version) : n;
    });
    if (!u.changed() && u.prev().isLive()) {
      return CompletableFuture.failedFuture(new StaleVersionException("delete of '" + key
          + "' at version " + version + " ignored: it holds version " + u.prev().desiredVersion));
    }
    return CompletableFuture.completedFuture(null);
  }

  // ---------------------------------------------------------------- resync

  /**
   * Upserts {@code all}, and deletes the keys it lacks that {@code origin} delivered (any, for
   * the API). As of a known version, keys newer than it stay and the deleted get a tombstone at
   * it; as of an unknown one ({@link SourceSupervisor#UNKNOWN}), every absent key goes, under a
   * soft tombstone.
   */
  @Override
  public void resync(Map<K, Versioned<S>> all, int origin, long asOf) {
    all.forEach((key, v) -> upsert(Arguments.key(key), v.value(), v.version(), origin, true, null));
    for (Entry<K, S, C> entry : table.entries()) {
      Node<K, S, C> seen = entry.node();
      boolean absent = seen.isLive() && !all.containsKey(entry.key)
          && (origin == API || seen.origin() == origin);
      if (absent && (asOf == SourceSupervisor.UNKNOWN || seen.desiredVersion <= asOf)) {
        // unless it moved on meanwhile
        table.update(entry, n -> n != seen ? n : asOf == SourceSupervisor.UNKNOWN
            ? n.removed(n.desiredVersion).softened() : n.removed(asOf));
      }
    }
  }

  @Override
  public void progress(int origin, long version) {
    consistentReads.progressed(origin, version);
  }

  // ---------------------------------------------------------------- dependencies

  @Override
  public void dependencyChanged(Object dependency) {
    dependencyChangedFuture(dependency);
  }

  /**
   * Rebuilds every entry whose spec depends on {@code dependency}, at once or in a wave; completes
   * when all serve, fails with a failed canary's error.
   */
  CompletableFuture<Void> dependencyChangedFuture(Object dependency) {
    Collection<K> keys = index.dependentsOf(dependency);
    if (waves != null) {
      return waves.start(dependency, List.copyOf(keys));
    }
    List<CompletableFuture<?>> rebuilt = new ArrayList<>(keys.size());
    for (K key : keys) {
      Entry<K, S, C> entry = table.get(key);
      CompletableFuture<?> future = entry == null ? null : rebuildDependent(entry, dependency);
      if (future != null) {
        rebuilt.add(future);
      }
    }
    return CompletableFuture.allOf(rebuilt.toArray(CompletableFuture<?>[]::new));
  }

  /** Makes {@code entry} rebuild for {@code dependency}: that build's future; null if not a dependent. */
  private CompletableFuture<?> rebuildDependent(Entry<K, S, C> entry, Object dependency) {
    long now = scheduler.nanoTime();
    List<SnapshotWaiter> made = new ArrayList<>(1);
    EntryTable.Update<K, S, C> u = table.update(entry, n -> {
      if (!n.isLive() || !n.dependencies.contains(dependency)) {
        return n;
      }
      SnapshotWaiter waiter = new SnapshotWaiter(0, n.desiredRevision + 1);
      made.add(waiter);
      return n.dependencyChanged(now, waiter);
    });
    return u.changed() ? made.get(made.size() - 1).future : null;
  }

  /** The effects of a change to the cache key {@code key}: entries depending on it rebuild (C9). */
  void invalidateDependents(K key) {
    if (index.hasDependents(key)) {
      dependencyChangedFuture(key);
    }
  }

  // ---------------------------------------------------------------- rejections

  /** A bad spec or event for {@code key}: logged, told to the listener, recorded as its last error. */
  @Override
  public void reject(K key, Exception problem) {
    LOG.log(System.Logger.Level.WARNING, () -> user.cacheName + ": rejected a spec for '" + key
        + "': " + problem.getMessage());
    Entry<K, S, C> entry = table.get(key);
    if (entry != null) {
      table.update(entry, n -> n.rejected(problem));
    }
    user.tell(l -> l.onRejected(key, problem)); // after the state change, as every callback
  }

  @Override
  public boolean closed() {
    return table.closed();
  }

  private static void failIfWaiting(Waiter<?, ?, ?> waiter, Throwable error) {
    if (waiter != null) {
      waiter.fail(error);
    }
  }

  private static IllegalArgumentException badSpec(Object key, long version, String what,
      Throwable t) {
    return new IllegalArgumentException("the spec of '" + key + "' at version " + version
        + " was rejected: " + what + " threw " + t, t);
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

  // ---------------------------------------------------------------- the waiter

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
    void serve(ServedClient<C> client, Snapshot<K, S, C> view) {
      future.complete(view);
    }

    @Override
    void fail(Throwable error) {
      future.completeExceptionally(error);
    }
  }
}
