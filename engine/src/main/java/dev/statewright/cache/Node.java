package dev.statewright.cache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Everything one entry knows, immutable: the state word of its lifecycle. An entry changes only by
 * CAS from one node to the next ({@link Entry}); readers get a consistent view by reading one
 * volatile reference. {@link #view} is built on first use and kept, so repeated
 * {@code snapshot()}s of an unchanged entry allocate nothing, and a node no one reads costs no
 * view.
 */
final class Node<K, S, C> {
  final K key;
  final EntryState state;
  /** The event that produced this node from the previous one; null for bookkeeping-only changes. */
  final EntryEvent cause;
  final S desiredSpec;
  final long desiredVersion;
  final long desiredRevision;
  final Collection<?> dependencies;
  /** Which source delivered the desired spec, so its resync deletes only its own keys. */
  final int origin;
  final Served<S, C> served;
  final BuildRun<S> build;
  /** On a tombstone: the build its removal displaced, cancelled before any re-add builds (C1). */
  final BuildRun<S> displaced;
  /** On a tombstone: made by a resync that did not say its version; a later resync may re-add. */
  final boolean soft;
  /** A build should start as soon as a bulkhead permit is free (false while backing off). */
  final boolean buildWanted;
  final Throwable lastError;
  final int failures;
  final long nextRetryNanos;
  final long staleSinceNanos;
  final List<Waiter<K, S, C>> waiters;
  /**
   * Abandoned factory calls of this key that have not returned, shared by every incarnation of
   * the key (a tombstone hands it to a re-add); changed by {@link BuildRun}, not by CAS here.
   */
  final AtomicInteger abandonedRunning;
  /**
   * Built on first use. Racy but benign, like {@code String.hash}: every thread builds an equal
   * value, and {@code Optional} and {@code Snapshot} are immutable with final fields, so a view
   * read without synchronisation is complete.
   */
  private Optional<Snapshot<K, S, C>> view;

  private Node(Draft<K, S, C> d) {
    this.key = d.key;
    this.state = d.state;
    this.cause = d.cause;
    this.desiredSpec = d.desiredSpec;
    this.desiredVersion = d.desiredVersion;
    this.desiredRevision = d.desiredRevision;
    this.dependencies = d.dependencies;
    this.origin = d.origin;
    this.served = d.served;
    this.build = d.build;
    this.displaced = d.displaced;
    this.soft = d.soft;
    this.buildWanted = d.buildWanted;
    this.lastError = d.lastError;
    this.failures = d.failures;
    this.nextRetryNanos = d.nextRetryNanos;
    this.staleSinceNanos = d.staleSinceNanos;
    this.waiters = List.copyOf(d.waiters);
    this.abandonedRunning = d.abandonedRunning;
  }

  /**
   * This node as a {@link Snapshot}, the same instance on every call but the racing first ones
   * and those after the count of abandoned builds still running changed.
   */
  Optional<Snapshot<K, S, C>> view() {
    Optional<Snapshot<K, S, C>> v = view;
    int abandoned = abandonedRunning.get();
    if (v == null || v.get().abandonedBuildsRunning() != abandoned) {
      v = Optional.of(new Snapshot<>(key, state, desiredVersion, desiredSpec,
          served == null ? 0 : served.version(), served == null ? null : served.spec(),
          lastError, nextRetryNanos, abandoned));
      view = v;
    }
    return v;
  }

  /** A new entry that wants its first build. */
  static <K, S, C> Node<K, S, C> created(K key, S spec, long version, Collection<?> dependencies,
      int origin, long now, AtomicInteger abandonedRunning) {
    Draft<K, S, C> d = new Draft<>(key, abandonedRunning);
    d.state = EntryState.STALE;
    d.origin = origin;
    d.desiredSpec = spec;
    d.desiredVersion = version;
    d.desiredRevision = 1;
    d.dependencies = dependencies;
    d.buildWanted = true;
    d.staleSinceNanos = now;
    return new Node<>(d);
  }

  /** A tombstone at {@code version}, still owing the cancellation of {@code displaced} if any. */
  static <K, S, C> Node<K, S, C> tombstone(K key, long version, BuildRun<S> displaced,
      AtomicInteger abandonedRunning) {
    Draft<K, S, C> d = new Draft<>(key, abandonedRunning);
    d.state = EntryState.REMOVED;
    d.desiredVersion = version;
    d.displaced = displaced;
    return new Node<>(d);
  }

  boolean isLive() {
    return state != EntryState.REMOVED;
  }

  /** Whether a build of a newer revision than the served one is due. */
  boolean behind() {
    return served == null || served.revision() < desiredRevision;
  }

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
    for (Waiter<K, S, C> w : waiters) {
      if (w.isDone() || w.satisfiedBy(served)) {
        settled.add(w);
      }
    }
    return settled;
  }

  Node<K, S, C> without(List<Waiter<K, S, C>> gone) {
    Draft<K, S, C> d = edit(null);
    d.cause = cause;
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
    BuildRun<S> displaced;
    boolean soft;
    boolean buildWanted;
    Throwable lastError;
    int failures;
    long nextRetryNanos;
    long staleSinceNanos;
    final List<Waiter<K, S, C>> waiters;
    private final AtomicInteger abandonedRunning;
    private final Node<K, S, C> previous;

    private Draft(K key, AtomicInteger abandonedRunning) {
      this.key = key;
      this.waiters = new ArrayList<>(1);
      this.abandonedRunning = abandonedRunning;
      this.previous = null;
    }

    private Draft(Node<K, S, C> n, EntryEvent cause) {
      this.key = n.key;
      this.state = cause == null ? n.state : ClientCache.LIFECYCLE.step(n.key, n.state, cause);
      this.cause = cause;
      this.desiredSpec = n.desiredSpec;
      this.desiredVersion = n.desiredVersion;
      this.desiredRevision = n.desiredRevision;
      this.dependencies = n.dependencies;
      this.origin = n.origin;
      this.served = n.served;
      this.build = n.build;
      this.displaced = n.displaced;
      this.soft = n.soft;
      this.buildWanted = n.buildWanted;
      this.lastError = n.lastError;
      this.failures = n.failures;
      this.nextRetryNanos = n.nextRetryNanos;
      this.staleSinceNanos = n.staleSinceNanos;
      this.waiters = new ArrayList<>(n.waiters);
      this.abandonedRunning = n.abandonedRunning;
      this.previous = n;
    }

    /** Marks the entry stale from {@code now} if it was current until this change. */
    Draft<K, S, C> staleFrom(long now) {
      if (previous != null && previous.state == EntryState.CURRENT && state != EntryState.CURRENT) {
        staleSinceNanos = now;
      }
      return this;
    }

    Node<K, S, C> freeze() {
      return new Node<>(this);
    }
  }
}
