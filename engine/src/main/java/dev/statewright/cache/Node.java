package dev.statewright.cache;

import dev.statewright.lifecycle.Lifecycle;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Everything one entry knows, immutable: the state word of its lifecycle. An entry changes only by
 * CAS from one node to the next ({@link Entry}); readers get a consistent view by reading one
 * volatile reference. {@link #view} is built on first use and kept, so repeated
 * {@code snapshot()}s of an unchanged entry allocate nothing, and a node no one reads costs no
 * view.
 */
final class Node<K, S, C> {
  /*
   * Overview: the legal moves of one entry, as named transition methods. Each takes values (the
   * prepared client, the precomputed dependencies, the time now), never a service, and returns the
   * next node; the update core in ClientCache installs it by CAS and runs the effects the
   * difference between the two nodes implies. Nothing here calls user code or another thread.
   *
   * Transitions (LIFECYCLE, checked on every edit by Draft; REMOVED is terminal):
   *   STALE      -> REBUILDING   buildStarted
   *   REBUILDING -> REBUILDING   buildSucceeded of a superseded revision (BUILD_SUPERSEDED)
   *   REBUILDING -> CURRENT      buildSucceeded of the newest revision
   *   REBUILDING -> STALE        buildFailed, buildAbandoned
   *   CURRENT    -> STALE        upserted (SPEC_CHANGED), dependencyChanged, invalidated,
   *                              refreshDue, expired (CLIENT_EXPIRED; STALE and REBUILDING keep
   *                              theirs)
   *   CURRENT    -> REBUILDING   upserted (RECONFIGURE_STARTED: the reconfigurer runs)
   *   REBUILDING -> CURRENT      reconfigured of the newest revision (RECONFIGURED)
   *   REBUILDING -> STALE        reconfigured of a superseded one (RECONFIGURE_SUPERSEDED),
   *                              reconfigureFailed: a rebuild is wanted at once
   *   any live   -> same state   upserted (METADATA_CHANGED; SPEC_CHANGED and DEPENDENCY_CHANGED
   *                              keep STALE and REBUILDING)
   *   any live   -> REMOVED      removed (DELETED)
   * Bookkeeping moves (no event): withWaiter, without, rejected, heldBack, retryDue, softened.
   *
   * Footprint: a node keeps what an idle CURRENT entry needs in its own fields; what only work
   * under way or trouble needs (a build, waiters, a backoff, an error) is in one Pending, null
   * when there is none, read through the accessors named after its fields. Its served client
   * reflects the desired spec, version and revision, unbroken, unless a Served (servedApart, in the
   * Pending) says otherwise; state, cause and origin are one int. An idle CURRENT node is 64 bytes.
   *
   * Ordering of this file: the lifecycle, the fields, the served client, the pending part, the
   * view, the two starting nodes, queries, the transitions in order of progress, waiters, the
   * draft, the Pending class.
   */

  /** The entry lifecycle; {@code specs/repository-lifecycle.md} holds the same diagram. */
  static final Lifecycle<EntryState, EntryEvent> LIFECYCLE = lifecycle();

  private static final EntryState[] STATES = EntryState.values();
  private static final EntryEvent[] EVENTS = EntryEvent.values();
  private static final int REMOVED = EntryState.REMOVED.ordinal();
  /** Bits of {@link #word}: the state's ordinal in the lowest three, the cause's + 1 above. */
  private static final int STATE_BITS = 3;
  private static final int CAUSE_BITS = 5;
  private static final int ORIGIN_SHIFT = STATE_BITS + CAUSE_BITS;

  /**
   * {@link #state()}, {@link #cause()} and {@link #origin()} in one int, not two references and
   * an int, so an idle node fits 64 bytes: origin above {@link #ORIGIN_SHIFT}, then the cause's
   * ordinal + 1 (0: none), then the state's ordinal.
   */
  private final int word;
  final S desiredSpec;
  final long desiredVersion;
  final long desiredRevision;
  final Collection<?> dependencies;
  /** The client served; null if none is. */
  final ServedClient<C> servedClient;
  /**
   * Clients served by this key so far (C15): 1 with the first, +1 with each new client served,
   * never lower; kept by a tombstone and handed to a re-add, as {@link #counts} are.
   */
  final long generation;
  /**
   * Abandoned factory calls of this key that have not returned and clients superseded but not yet
   * released, shared by every incarnation of the key (a tombstone hands them to a re-add); changed
   * by {@link BuildRun} and {@link ServedClient}, not by CAS here.
   */
  final KeyCounts<K> counts;
  /**
   * Built on first use. Racy but benign, like {@code String.hash}: every thread builds an equal
   * value, and {@code Snapshot} (with its {@code Optional}) is immutable with final fields, so a
   * view read without synchronisation is complete.
   */
  private Snapshot<K, S, C> view;
  /** The work under way and its trouble (see {@link Pending}); null when there is none. */
  private final Pending<K, S, C> pending;

  private Node(Draft<K, S, C> d) {
    if (d.origin >= 1 << (Integer.SIZE - 1 - ORIGIN_SHIFT) || d.origin < 0) {
      throw new IllegalArgumentException("source index out of range: " + d.origin);
    }
    this.word = d.origin << ORIGIN_SHIFT
        | (d.cause == null ? 0 : d.cause.ordinal() + 1) << STATE_BITS | d.state.ordinal();
    this.desiredSpec = d.desiredSpec;
    this.desiredVersion = d.desiredVersion;
    this.desiredRevision = d.desiredRevision;
    this.dependencies = d.dependencies;
    Served<S, C> s = d.served;
    this.servedClient = s == null ? null : s.client();
    Served<S, C> apart = s == null || s.spec() == d.desiredSpec && s.version() == d.desiredVersion
        && s.revision() == d.desiredRevision && !s.broken() ? null : s;
    this.generation = d.generation;
    this.counts = d.counts;
    this.pending = Pending.of(d, apart);
  }

  EntryState state() {
    return STATES[word & (1 << STATE_BITS) - 1];
  }

  /** The event that produced this node from the previous one; null for bookkeeping-only changes. */
  EntryEvent cause() {
    int cause = word >>> STATE_BITS & (1 << CAUSE_BITS) - 1;
    return cause == 0 ? null : EVENTS[cause - 1];
  }

  /** Which source delivered the desired spec, so its resync deletes only its own keys. */
  int origin() {
    return word >>> ORIGIN_SHIFT;
  }

  /** The key, kept once for all its nodes and incarnations (in {@link #counts}). */
  K key() {
    return counts.key;
  }

  // ---------------------------------------------------------------- the served client

  /**
   * What {@link #servedClient} reflects when that is not simply the desired spec, version and
   * revision, unbroken ({@link #served}); null when it is, as for every idle CURRENT entry, so such
   * an entry keeps no Served of its own (and, often, no Pending).
   */
  private Served<S, C> servedApart() {
    return pending == null ? null : pending.servedApart;
  }

  /** The served client with what it reflects; null if none is served. A new Served if compact. */
  Served<S, C> served() {
    Served<S, C> servedApart = servedApart();
    if (servedClient == null || servedApart != null) {
      return servedApart;
    }
    return new Served<>(desiredSpec, desiredVersion, desiredRevision, servedClient);
  }

  /** The version of the spec the served client reflects; a client must be served. */
  long servedVersion() {
    Served<S, C> servedApart = servedApart();
    return servedApart == null ? desiredVersion : servedApart.version();
  }

  /** The revision the served client reflects; a client must be served. */
  long servedRevision() {
    Served<S, C> servedApart = servedApart();
    return servedApart == null ? desiredRevision : servedApart.revision();
  }

  /** The spec the served client reflects; a client must be served. */
  S servedSpec() {
    Served<S, C> servedApart = servedApart();
    return servedApart == null ? desiredSpec : servedApart.spec();
  }

  /** Whether the served client was reported failing and a replacement is due (C11). */
  boolean servedBroken() {
    Served<S, C> servedApart = servedApart();
    return servedApart != null && servedApart.broken();
  }

  // ---------------------------------------------------------------- the pending part

  /** The build in flight; null if none. */
  BuildRun<S> build() {
    return pending == null ? null : pending.build;
  }

  /** The reconfigurer's call in flight (state REBUILDING, no build); null if none. */
  ReconfigureRun<S, C> reconfigure() {
    return pending == null ? null : pending.reconfigure;
  }

  /** On a tombstone: the build its removal displaced, cancelled before any re-add builds (C1). */
  BuildRun<S> displaced() {
    return pending == null ? null : pending.displaced;
  }

  /** On a tombstone: made by a resync that did not say its version; a later resync may re-add. */
  boolean soft() {
    return pending != null && pending.soft;
  }

  /** A build should start as soon as a bulkhead permit is free (false while backing off). */
  boolean buildWanted() {
    return pending != null && pending.buildWanted;
  }

  /** The last build error, or why the last update was refused; null if none. */
  Throwable lastError() {
    return pending == null ? null : pending.lastError;
  }

  /**
   * The build that was in flight when a failed canary held this key back (C14): it started before
   * the change, so its client does not release the key and the canary's error stays; null if none.
   */
  BuildRun<S> heldDuring() {
    return pending == null ? null : pending.heldDuring;
  }

  /** Failed builds since the last success or new spec. */
  int failures() {
    return pending == null ? 0 : pending.failures;
  }

  /** When the retry after a failure is due; 0 if none is. */
  long nextRetryNanos() {
    return pending == null ? 0 : pending.nextRetryNanos;
  }

  /**
   * When the entry stopped being CURRENT (or was created), for bounded staleness. A CURRENT node
   * keeps none (0): it is never behind, so nobody reads it, and leaving CURRENT sets it anew
   * ({@link Draft#staleFrom}).
   */
  long staleSinceNanos() {
    return pending == null ? 0 : pending.staleSinceNanos;
  }

  /** Who waits for this entry to serve a version; empty if nobody. */
  List<Waiter<K, S, C>> waiters() {
    return pending == null ? List.of() : pending.waiters;
  }

  /**
   * This node as a {@link Snapshot}, the same instance on every call but the racing first ones
   * and those after a count the node does not hold changed (abandoned builds running, leases).
   */
  Optional<Snapshot<K, S, C>> view() {
    Snapshot<K, S, C> v = view;
    return v != null && current(v) ? v.asOptional : newView();
  }

  /**
   * Makes and keeps a new view: apart from {@link #view}, so that the compiled {@code view} stays
   * small enough to be inlined into {@code snapshot()} callers (with the construction inside it, C2
   * compiled it into a method too big to inline, and {@code snapshot()} ran at half the map's
   * speed).
   */
  private Optional<Snapshot<K, S, C>> newView() {
    Snapshot<K, S, C> v = snapshot();
    view = v;
    return v.asOptional;
  }

  /**
   * This node as a {@link Snapshot} for a waiter: the kept view if there is a current one, else a
   * new one that is not kept, so a node no reader asks for holds no view (96 bytes an entry).
   */
  Snapshot<K, S, C> viewForWaiters() {
    Snapshot<K, S, C> v = view;
    return v != null && current(v) ? v : snapshot();
  }

  /** Whether {@code v} still has the counts this node does not hold (running, leased, retired). */
  private boolean current(Snapshot<K, S, C> v) {
    return v.abandonedBuildsRunning() == counts.abandonedRunning()
        && v.openLeases() == (servedClient == null ? 0 : servedClient.openLeases())
        && v.retiredClientsInUse() == counts.retiredInUse();
  }

  private Snapshot<K, S, C> snapshot() {
    return new Snapshot<>(key(), state(), desiredVersion, desiredSpec,
        servedClient == null ? 0 : servedVersion(), servedClient == null ? null : servedSpec(),
        lastError(), nextRetryNanos(), counts.abandonedRunning(), generation,
        servedClient == null ? 0 : servedClient.openLeases(), counts.retiredInUse());
  }

  /**
   * A new entry that wants its first build, waited on by {@code waiter} (if not null); it takes
   * over what the key's {@code tombstone} (if not null) keeps for every incarnation.
   */
  static <K, S, C> Node<K, S, C> created(K key, S spec, long version, Collection<?> dependencies,
      int origin, long now, Node<K, S, C> tombstone, Waiter<K, S, C> waiter) {
    Draft<K, S, C> d = new Draft<>(key, tombstone);
    d.state = EntryState.STALE;
    d.origin = origin;
    d.desiredSpec = spec;
    d.desiredVersion = version;
    d.desiredRevision = 1;
    d.dependencies = dependencies;
    d.buildWanted = true;
    d.staleSinceNanos = now;
    if (waiter != null) {
      d.waiters.add(waiter);
    }
    return new Node<>(d);
  }

  /**
   * A tombstone at {@code version} where the key had none or the older {@code tombstone}, still
   * owing the cancellation of the build that one displaced, if any.
   */
  static <K, S, C> Node<K, S, C> tombstone(K key, long version, Node<K, S, C> tombstone) {
    Draft<K, S, C> d = new Draft<>(key, tombstone);
    d.state = EntryState.REMOVED;
    d.desiredVersion = version;
    d.displaced = tombstone == null ? null : tombstone.displaced();
    return new Node<>(d);
  }

  boolean isLive() {
    return (word & (1 << STATE_BITS) - 1) != REMOVED; // read by every acquire: no array load
  }

  /** Whether a build of a newer revision than the served one is due. */
  boolean behind() {
    return servedClient == null || servedRevision() < desiredRevision;
  }

  /** Whether a failed build of {@code run} is retried after a backoff (no newer spec came). */
  boolean retriesAfter(BuildRun<S> run) {
    return run.revision >= desiredRevision;
  }

  // ---------------------------------------------------------------- transitions

  /**
   * A newer spec ({@code version > desiredVersion}): a rebuild if {@code change} says so, else the
   * served client is now known to fit it too.
   */
  Node<K, S, C> upserted(S spec, long version, int origin, Collection<?> deps, Change change,
      boolean reconfigurable, long now, Waiter<K, S, C> waiter) {
    assert isLive() && version > desiredVersion;
    Draft<K, S, C> d;
    if (change == Change.RECONFIGURE && reconfigurable && state() == EntryState.CURRENT
        && !behind() && !servedClient.expiredAt(now)) { // the live client takes it in place
      d = edit(EntryEvent.RECONFIGURE_STARTED).staleFrom(now);
      d.desiredRevision++;
      d.reconfigure = new ReconfigureRun<>(spec, version, d.desiredRevision, servedClient);
    } else if (change == Change.REBUILD || change == Change.RECONFIGURE) {
      d = edit(EntryEvent.SPEC_CHANGED).staleFrom(now);
      d.desiredRevision++;
      d.rebuildSoon();
    } else {
      d = edit(EntryEvent.METADATA_CHANGED);
      if (servedClient != null && !behind() && !servedClient.expiredAt(now)) { // fits the new spec
        d.served = d.served.reflecting(spec, version, servedRevision());
        d.lastError = null; // a valid spec supersedes an earlier rejected one
      }
    }
    d.origin = origin;
    d.desiredSpec = spec;
    d.desiredVersion = version;
    d.dependencies = deps;
    d.heldDuring = null; // a spec change of its own releases a held key
    if (waiter != null) {
      d.waiters.add(waiter);
    }
    return d.freeze();
  }

  /** A dependency of this entry changed: a rebuild, which {@code waiter} waits for. */
  Node<K, S, C> dependencyChanged(long now, Waiter<K, S, C> waiter) {
    Draft<K, S, C> d = edit(EntryEvent.DEPENDENCY_CHANGED).staleFrom(now);
    d.heldDuring = null; // released: the build after this one reads the change
    d.desiredRevision++;
    d.rebuildSoon();
    d.waiters.add(waiter);
    return d.freeze();
  }

  /** A bulkhead permit was granted: {@code run} builds the newest desired spec. */
  Node<K, S, C> buildStarted(BuildRun<S> run) {
    Draft<K, S, C> d = edit(EntryEvent.BUILD_STARTED);
    d.build = run;
    d.buildWanted = false;
    return d.freeze();
  }

  /**
   * {@code run} built {@code client}; served at once. If a newer spec arrived meanwhile, {@code next}
   * builds it and the entry stays REBUILDING (C3).
   */
  Node<K, S, C> buildSucceeded(BuildRun<S> run, ServedClient<C> client, BuildRun<S> next) {
    boolean newest = run.revision == desiredRevision;
    Draft<K, S, C> d = edit(newest ? EntryEvent.BUILD_SUCCEEDED : EntryEvent.BUILD_SUPERSEDED);
    long version = newest ? desiredVersion : run.version;
    assert servedClient == null || version >= servedVersion() : "served version went back";
    d.served = new Served<>(newest ? desiredSpec : run.spec, version, run.revision, client);
    d.generation = generation + 1;
    d.lastError = run == heldDuring() ? lastError() : null; // built before the held change: held
    d.heldDuring = null;
    d.failures = 0;
    d.nextRetryNanos = 0;
    d.build = newest ? null : next;
    return d.freeze();
  }

  /** The version {@link #buildSucceeded} serves when {@code run} succeeds: the newest, or run's. */
  long versionServedBy(BuildRun<S> run) {
    return run.revision == desiredRevision ? desiredVersion : run.version;
  }

  /**
   * {@code run} failed (or timed out) with {@code error}; a newer spec is tried at once, else the
   * same one again at {@code retryAt} (see {@link #retriesAfter}).
   */
  Node<K, S, C> buildFailed(BuildRun<S> run, Throwable error, long retryAt) {
    Draft<K, S, C> d = edit(EntryEvent.BUILD_FAILED);
    d.build = null;
    d.lastError = error;
    d.heldDuring = null;
    d.waiters.removeIf(w -> w.failsWith(run));
    if (!retriesAfter(run)) { // a newer spec arrived meanwhile: try it at once
      d.failures = 0;
      d.buildWanted = true;
      d.nextRetryNanos = 0;
    } else {
      d.failures = failures() + 1;
      d.buildWanted = false;
      d.nextRetryNanos = retryAt;
    }
    return d.freeze();
  }

  /** The build in flight is given up (superseded by a newer spec); the newest queues at once. */
  Node<K, S, C> buildAbandoned() {
    Draft<K, S, C> d = edit(EntryEvent.BUILD_ABANDONED);
    d.build = null; // the effects abandon it; its permit comes back when the call returns
    d.failures = 0;
    d.nextRetryNanos = 0;
    d.buildWanted = true;
    return d.freeze();
  }

  /**
   * The served {@code client} reached its refresh point (C12): a rebuild of the same spec and
   * revision is wanted, and the client keeps serving meanwhile, under any freshness. Nothing if
   * another client is served or a build is already due (STALE, REBUILDING).
   */
  Node<K, S, C> refreshDue(ServedClient<C> client, long now) {
    if (state() != EntryState.CURRENT || servedClient == null || servedClient != client) {
      return this;
    }
    Draft<K, S, C> d = edit(EntryEvent.REFRESH_DUE).staleFrom(now);
    d.rebuildSoon();
    return d.freeze();
  }

  /** This node with its served client dropped if that client's lifetime is over at {@code now}. */
  Node<K, S, C> expiredIfDue(long now) {
    return servedClient != null && servedClient.expiredAt(now) ? expired(servedClient, now) : this;
  }

  /**
   * The served {@code client}'s lifetime ended (C12): it is served no more (retired, closed after
   * its last lease) and readers wait for its replacement; a CURRENT entry wants that build now,
   * a STALE or REBUILDING one has it coming already (or its retry).
   */
  Node<K, S, C> expired(ServedClient<C> client, long now) {
    if (servedClient == null || servedClient != client) {
      return this;
    }
    Draft<K, S, C> d = edit(EntryEvent.CLIENT_EXPIRED).staleFrom(now);
    d.served = null;
    if (state() == EntryState.CURRENT) {
      d.rebuildSoon();
    }
    return d.freeze();
  }

  /**
   * The served client failed in use ({@code target}, or whichever is served if null): a rebuild,
   * and until it is served the client is {@code broken}, served only under bounded staleness
   * (C11). A report against a client no longer served changes nothing; one while a rebuild is
   * due already only records {@code cause}. The backoff is not reset: a build that fails backs off
   * as usual.
   */
  Node<K, S, C> invalidated(ServedClient<C> target, Throwable cause, long now) {
    if (!isLive() || servedClient == null || target != null && servedClient != target) {
      return this;
    }
    Draft<K, S, C> d = edit(state() == EntryState.CURRENT ? EntryEvent.INVALIDATED : null)
        .staleFrom(now);
    d.lastError = cause;
    if (!servedBroken()) {
      d.served = d.served.markedBroken();
    }
    if (!behind()) { // CURRENT, or refreshing it (C12): a client of a newer revision is due
      d.desiredRevision++;
      d.buildWanted |= state() == EntryState.CURRENT; // never backing off: a permit at once
    }
    return d.freeze();
  }

  /**
   * The reconfigurer of {@code run} returned (C13): the same client serves the new spec. If a
   * newer change arrived meanwhile, it serves the spec it was reconfigured to and a build of the
   * newest is wanted. If the client expired meanwhile, the reconfigure counts as failed.
   */
  Node<K, S, C> reconfigured(ReconfigureRun<S, C> run) {
    if (servedClient == null || servedClient != run.client) {
      return reconfigureFailed(run, new IllegalStateException("the client of '" + key()
          + "' expired while it was being reconfigured to version " + run.version));
    }
    if (servedBroken()) { // reported failing meanwhile: rebuilt, and until then listed as it is
      Draft<K, S, C> d = failedReconfigure(new IllegalStateException("the client of '" + key()
          + "' was reported failing while it was being reconfigured to version " + run.version));
      // it reflects the spec it was reconfigured to (C13) and stays behind, so strict() never
      // serves it (C11)
      d.served = d.served.reflecting(run.spec, run.version, servedRevision());
      return d.freeze();
    }
    boolean newest = run.revision == desiredRevision;
    Draft<K, S, C> d = edit(newest ? EntryEvent.RECONFIGURED : EntryEvent.RECONFIGURE_SUPERSEDED);
    d.served = newest ? d.served.reflecting(desiredSpec, desiredVersion, run.revision)
        : d.served.reflecting(run.spec, run.version, run.revision);
    // generation stays: the same client is served, and C10 ties a generation to one client
    d.reconfigure = null;
    d.lastError = null;
    d.failures = 0;
    d.nextRetryNanos = 0;
    d.buildWanted = !newest;
    return d.freeze();
  }

  /** The reconfigurer of {@code run} failed with {@code error}: a rebuild is wanted at once. */
  Node<K, S, C> reconfigureFailed(ReconfigureRun<S, C> run, Throwable error) {
    return failedReconfigure(error).freeze();
  }

  private Draft<K, S, C> failedReconfigure(Throwable error) {
    Draft<K, S, C> d = edit(EntryEvent.RECONFIGURE_FAILED);
    d.reconfigure = null;
    d.lastError = error;
    d.failures = 0;
    d.nextRetryNanos = 0;
    d.buildWanted = true;
    return d;
  }

  /** The backoff after a failure that set {@code due} is over: the entry wants a build again. */
  Node<K, S, C> retryDue(long due) {
    if (state() != EntryState.STALE || buildWanted() || nextRetryNanos() != due) {
      return this;
    }
    Draft<K, S, C> d = edit(null);
    d.buildWanted = true;
    d.nextRetryNanos = 0;
    return d.freeze();
  }

  /** A bad spec or event for this key: recorded as its last error. */
  Node<K, S, C> rejected(Exception problem) {
    if (!isLive()) {
      return this;
    }
    Draft<K, S, C> d = edit(null);
    d.lastError = problem;
    return d.freeze();
  }

  /** A wave's canary failed with {@code error}, so this dependent was not rebuilt: its last error. */
  Node<K, S, C> heldBack(Throwable error) {
    if (!isLive()) {
      return this;
    }
    Draft<K, S, C> d = edit(null);
    d.lastError = error;
    d.heldDuring = build();
    return d.freeze();
  }

  /** Deleted at {@code version}: a tombstone that owes the cancellation of its build (C1, C2). */
  Node<K, S, C> removed(long version) {
    Draft<K, S, C> d = edit(EntryEvent.DELETED);
    d.desiredVersion = version;
    d.served = null;
    d.displaced = build();
    d.build = null;
    d.reconfigure = null;
    d.buildWanted = false;
    d.nextRetryNanos = 0;
    d.waiters.clear();
    return d.freeze();
  }

  /** Removed at the version it knows, as close() does; a tombstone as it is. */
  Node<K, S, C> removedIfLive() {
    return isLive() ? removed(desiredVersion) : this;
  }

  /** This tombstone made soft: a resync that did not say its version may re-add the key. */
  Node<K, S, C> softened() {
    Draft<K, S, C> d = edit(null);
    d.cause = cause();
    d.soft = true;
    return d.freeze();
  }

  // ---------------------------------------------------------------- waiters

  Draft<K, S, C> edit(EntryEvent event) {
    return new Draft<>(this, event);
  }

  /** This node waited on by {@code waiter} too; this node itself if {@code waiter} is null. */
  Node<K, S, C> withWaiter(Waiter<K, S, C> waiter) {
    if (waiter == null) {
      return this;
    }
    Draft<K, S, C> d = edit(null);
    d.waiters.add(waiter);
    return d.freeze();
  }

  /** The waiters this node answers, or drops because they are done already. */
  List<Waiter<K, S, C>> settledWaiters() {
    List<Waiter<K, S, C>> settled = new ArrayList<>(0);
    for (Waiter<K, S, C> w : waiters()) {
      if (w.isDone() || servedClient != null
          && w.satisfiedBy(servedVersion(), servedRevision(), servedBroken())) {
        settled.add(w);
      }
    }
    return settled;
  }

  Node<K, S, C> without(List<Waiter<K, S, C>> gone) {
    Draft<K, S, C> d = edit(null);
    d.cause = cause();
    d.waiters.removeAll(gone);
    return d.freeze();
  }

  /** A mutable copy, for computing the next node inside one CAS attempt. */
  static final class Draft<K, S, C> {
    final K key;
    EntryState state;
    EntryEvent cause;
    S desiredSpec;
    long desiredVersion;
    long desiredRevision;
    Collection<?> dependencies = List.of();
    int origin;
    Served<S, C> served;
    BuildRun<S> build;
    ReconfigureRun<S, C> reconfigure;
    BuildRun<S> displaced;
    boolean soft;
    boolean buildWanted;
    Throwable lastError;
    BuildRun<S> heldDuring;
    int failures;
    long nextRetryNanos;
    long staleSinceNanos;
    final List<Waiter<K, S, C>> waiters;
    long generation;
    private final KeyCounts<K> counts;
    private final Node<K, S, C> previous;

    /** A first node of {@code key}, after {@code tombstone} (null if the key had none). */
    private Draft(K key, Node<K, S, C> tombstone) {
      this.key = key;
      this.waiters = new ArrayList<>(1);
      this.generation = tombstone == null ? 0 : tombstone.generation;
      this.counts = tombstone == null ? new KeyCounts<>(key) : tombstone.counts;
      this.previous = null;
    }

    private Draft(Node<K, S, C> n, EntryEvent cause) {
      this.key = n.key();
      this.state = cause == null ? n.state() : LIFECYCLE.step(key, n.state(), cause);
      this.cause = cause;
      this.desiredSpec = n.desiredSpec;
      this.desiredVersion = n.desiredVersion;
      this.desiredRevision = n.desiredRevision;
      this.dependencies = n.dependencies;
      this.origin = n.origin();
      this.served = n.served();
      this.build = n.build();
      this.reconfigure = n.reconfigure();
      this.displaced = n.displaced();
      this.soft = n.soft();
      this.buildWanted = n.buildWanted();
      this.lastError = n.lastError();
      this.heldDuring = n.heldDuring();
      this.failures = n.failures();
      this.nextRetryNanos = n.nextRetryNanos();
      this.staleSinceNanos = n.staleSinceNanos();
      this.waiters = new ArrayList<>(n.waiters());
      this.generation = n.generation;
      this.counts = n.counts;
      this.previous = n;
    }

    /** A rebuild-worthy change resets the backoff; a build in flight is followed by one more. */
    void rebuildSoon() {
      failures = 0;
      nextRetryNanos = 0;
      buildWanted = state == EntryState.STALE;
    }

    /** Marks the entry stale from {@code now} if it was current until this change. */
    Draft<K, S, C> staleFrom(long now) {
      if (previous != null && previous.state() == EntryState.CURRENT
          && state != EntryState.CURRENT) {
        staleSinceNanos = now;
      }
      return this;
    }

    Node<K, S, C> freeze() {
      return new Node<>(this);
    }
  }

  /**
   * What a node holds only while work is under way or something went wrong: the build or
   * reconfigure in flight, the waiters, the backoff, the last error, since when it is stale, a
   * tombstone's displaced build. A CURRENT entry with nothing under way has none (its node is then {@link Pending#of}'s
   * null), so an idle entry does not pay for them.
   */
  private static final class Pending<K, S, C> {
    final BuildRun<S> build;
    final ReconfigureRun<S, C> reconfigure;
    final BuildRun<S> displaced;
    final boolean soft;
    final boolean buildWanted;
    final Throwable lastError;
    final BuildRun<S> heldDuring;
    final int failures;
    final long nextRetryNanos;
    final long staleSinceNanos;
    final List<Waiter<K, S, C>> waiters;
    /** See {@link Node#servedApart()}. */
    final Served<S, C> servedApart;

    private Pending(Draft<K, S, C> d, long staleSinceNanos, Served<S, C> servedApart) {
      this.build = d.build;
      this.reconfigure = d.reconfigure;
      this.displaced = d.displaced;
      this.soft = d.soft;
      this.buildWanted = d.buildWanted;
      this.lastError = d.lastError;
      this.heldDuring = d.heldDuring;
      this.failures = d.failures;
      this.nextRetryNanos = d.nextRetryNanos;
      this.staleSinceNanos = staleSinceNanos;
      this.waiters = List.copyOf(d.waiters);
      this.servedApart = servedApart;
    }

    /** The pending part of {@code d}, with {@code servedApart}; null if every part is empty. */
    static <K, S, C> Pending<K, S, C> of(Draft<K, S, C> d, Served<S, C> servedApart) {
      long staleSince = d.state == EntryState.CURRENT ? 0 : d.staleSinceNanos;
      boolean none = d.build == null && d.reconfigure == null && d.displaced == null && !d.soft
          && !d.buildWanted && d.lastError == null && d.heldDuring == null && d.failures == 0
          && d.nextRetryNanos == 0 && staleSince == 0 && d.waiters.isEmpty() && servedApart == null;
      return none ? null : new Pending<>(d, staleSince, servedApart);
    }
  }

  private static Lifecycle<EntryState, EntryEvent> lifecycle() {
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
            .permit(EntryState.CURRENT, EntryEvent.INVALIDATED, EntryState.STALE)
            .permit(EntryState.CURRENT, EntryEvent.METADATA_CHANGED, EntryState.CURRENT)
            .permit(EntryState.CURRENT, EntryEvent.REFRESH_DUE, EntryState.STALE)
            .permit(EntryState.CURRENT, EntryEvent.CLIENT_EXPIRED, EntryState.STALE)
            .permit(EntryState.STALE, EntryEvent.CLIENT_EXPIRED, EntryState.STALE)
            .permit(EntryState.REBUILDING, EntryEvent.CLIENT_EXPIRED, EntryState.REBUILDING)
            .permit(EntryState.CURRENT, EntryEvent.RECONFIGURE_STARTED, EntryState.REBUILDING)
            .permit(EntryState.REBUILDING, EntryEvent.RECONFIGURED, EntryState.CURRENT)
            .permit(EntryState.REBUILDING, EntryEvent.RECONFIGURE_SUPERSEDED, EntryState.STALE)
            .permit(EntryState.REBUILDING, EntryEvent.RECONFIGURE_FAILED, EntryState.STALE);
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
}
