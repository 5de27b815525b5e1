package dev.statewright.cache;

import dev.statewright.lease.ResourceReleasedException;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Hands out leases on served clients as the cache's {@link Freshness} asks: at once when the served
 * client is fresh enough, otherwise by a waiter in the entry's node, answered by the update that
 * serves a fresh enough client, failed by the build it waits for or by the acquire timeout.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
final class LeaseIssuer<K, S, C> implements ConsistentReads.Entries<K, C> {
  /*
   * Overview: `tryLease` is the common path: one volatile read of the node, a freshness check and
   * a lease on the served LeasedResource (one CAS there). Only when it returns null does a read
   * allocate a LeaseWaiter and a timer.
   *
   * Concurrency: a waiter is added to the node by an update, so it and the transition that
   * satisfies it are ordered by the same CAS. A lease raced by the retirement of its client
   * (ResourceReleasedException) reads again: a newer client is served by then. A lease that
   * arrives after its waiter timed out is closed at once.
   *
   * Transitions: none of its own; a LeaseWaiter's future completes once.
   *
   * Ordering of this file: fields, the reads (consistent reads' two hooks among them), waiting,
   * messages, the waiter.
   */
  private final Freshness freshness;
  private final Scheduler scheduler;
  private final Duration acquireTimeout;
  private final EntryTable<K, S, C> table;

  LeaseIssuer(Freshness freshness, Scheduler scheduler, Duration acquireTimeout,
      EntryTable<K, S, C> table) {
    this.freshness = freshness;
    this.scheduler = scheduler;
    this.acquireTimeout = acquireTimeout;
    this.table = table;
  }

  // ---------------------------------------------------------------- the three reads

  /**
   * Marks the client {@code key} serves broken (C11): see {@link Node#invalidated}. (A lease's
   * report goes through BuildLauncher, which made its client.)
   *
   * @return whether a client was served to mark
   */
  boolean invalidate(K key, Throwable cause) {
    return table.update(liveEntry(key), n -> n.invalidated(null, cause, scheduler.nanoTime()))
        .changed();
  }

  /** A lease as fresh as the freshness policy asks, waiting up to the acquire timeout. */
  ClientLease<C> acquire(K key) {
    Entry<K, S, C> entry = entryOf(key);
    ClientLease<C> lease = tryLease(entry); // checks that it is live: one read of the node
    return lease != null ? lease : join(awaitFresh(entry, Arguments.holder()));
  }

  /** {@link #acquire} without blocking. */
  CompletableFuture<ClientLease<C>> acquireAsync(K key) {
    Entry<K, S, C> entry = entryOf(key);
    ClientLease<C> lease = tryLease(entry);
    return lease != null ? CompletableFuture.completedFuture(lease)
        : awaitFresh(entry, Arguments.holder());
  }

  /** A lease on a client built from {@code minVersion} or newer, once there is one. */
  CompletableFuture<ClientLease<C>> acquireAsync(K key, long minVersion) {
    Entry<K, S, C> entry;
    try {
      entry = liveEntry(key);
    } catch (RuntimeException missing) {
      return CompletableFuture.failedFuture(missing);
    }
    return awaitLease(entry, Arguments.version(minVersion, key), 0, Arguments.holder(), false);
  }

  /** For consistent reads: the origin of the source that delivered {@code key}'s live entry. */
  @Override
  public int ownerOf(K key) {
    Entry<K, S, C> entry = table.get(key);
    return entry == null || !entry.node().isLive() ? ConsistentReads.NO_OWNER
        : entry.node().origin();
  }

  /** For consistent reads: waits (strictly) for a client of the spec {@code key} wants now. */
  @Override
  public CompletableFuture<ClientLease<C>> leaseOnDesired(K key, String holder) {
    Entry<K, S, C> entry = table.get(key);
    if (entry == null || !entry.node().isLive()) {
      return CompletableFuture.failedFuture(table.missing(key, entry));
    }
    return awaitFresh(entry, holder);
  }

  private Entry<K, S, C> entryOf(K key) {
    Entry<K, S, C> entry = table.get(key);
    if (entry == null) {
      throw table.missing(key, null);
    }
    return entry;
  }

  private Entry<K, S, C> liveEntry(K key) {
    Entry<K, S, C> entry = table.get(key);
    if (entry == null || !entry.node().isLive()) {
      throw table.missing(key, entry);
    }
    return entry;
  }

  /** A lease on the served client if the freshness policy allows it now; null to wait. */
  private ClientLease<C> tryLease(Entry<K, S, C> entry) {
    for (;;) {
      Node<K, S, C> n = entry.node();
      if (!n.isLive()) {
        throw table.missing(entry.key, entry);
      }
      ServedClient<C> client = n.servedClient;
      if (client == null || !servable(n)) {
        return null;
      }
      if (expiredNow(entry, client)) {
        continue; // dropped it (C12): read again
      }
      try {
        return client.lease(Arguments.holder());
      } catch (ResourceReleasedException replaced) {
        // a newer client took its place between our read and our lease: read again
      }
    }
  }

  private boolean servable(Node<K, S, C> n) {
    return !n.behind() || freshness.tolerates(scheduler.nanoTime() - n.staleSinceNanos());
  }

  /**
   * Whether {@code served} has expired by now (C12); if so, drops it from the entry at once,
   * ahead of its timer, so no waiter added after this is answered with it.
   */
  private boolean expiredNow(Entry<K, S, C> entry, ServedClient<C> served) {
    if (served.expiresAt() == Served.NEVER) {
      return false;
    }
    long now = scheduler.nanoTime();
    if (!served.expiredAt(now)) {
      return false;
    }
    table.update(entry, n -> n.expiredIfDue(now));
    return true;
  }

  // ---------------------------------------------------------------- waiting

  /** Waits for a client built from the spec known now (or newer). */
  private CompletableFuture<ClientLease<C>> awaitFresh(Entry<K, S, C> entry, String holder) {
    return awaitLease(entry, 0, entry.node().desiredRevision, holder, true);
  }

  /** {@code failFast}: fail at once when the build waited for fails, instead of at the timeout. */
  private CompletableFuture<ClientLease<C>> awaitLease(Entry<K, S, C> entry, long minVersion,
      long minRevision, String holder, boolean failFast) {
    LeaseWaiter waiter = new LeaseWaiter(entry, minVersion, minRevision, holder, failFast);
    ServedClient<C> served = entry.node().servedClient;
    if (served != null) {
      expiredNow(entry, served); // an expired client must not answer the waiter
    }
    EntryTable.Update<K, S, C> u = table.update(entry, n -> n.isLive() ? n.withWaiter(waiter) : n);
    if (!u.next().isLive()) {
      waiter.fail(table.missing(entry.key, entry));
    } else if (!waiter.isDone()) {
      Scheduler.Cancellable timer =
          scheduler.schedule(() -> waiter.fail(unavailable(entry)), acquireTimeout);
      waiter.future.whenComplete((lease, error) -> timer.cancel());
    }
    return waiter.future;
  }

  private static <C> ClientLease<C> join(CompletableFuture<ClientLease<C>> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  // ---------------------------------------------------------------- messages

  private ClientUnavailableException unavailable(Entry<K, S, C> entry) {
    Node<K, S, C> n = entry.node();
    return new ClientUnavailableException("no client for '" + entry.key + "' within "
        + acquireTimeout + " (" + n.state() + ", desired version " + n.desiredVersion + ", "
        + (n.servedClient == null ? "nothing served" : "serving version " + n.servedVersion())
        + (n.lastError() == null ? ")" : ", last error: " + n.lastError() + ")"), n.lastError());
  }

  // ---------------------------------------------------------------- the waiter

  /** An acquire waiting for a fresh enough client: a lease once served. */
  private final class LeaseWaiter extends Waiter<K, S, C> {
    final CompletableFuture<ClientLease<C>> future = new CompletableFuture<>();
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

    /** Under strict(), no invalidated client (C11); under bounded staleness, as before. */
    @Override
    boolean takesBroken() {
      return freshness != Freshness.strict();
    }

    @Override
    void serve(ServedClient<C> served, Snapshot<K, S, C> view) {
      if (expiredNow(entry, served)) { // dropped now: wait for its replacement
        waitAgain();
        return;
      }
      try {
        ClientLease<C> lease = served.lease(holder);
        if (!future.complete(lease)) {
          lease.close(); // timed out meanwhile
        }
      } catch (ResourceReleasedException replaced) {
        waitAgain();
      }
    }

    /** Its client went (replaced, expired) between the answer and the lease: wait again. */
    private void waitAgain() {
      awaitLease(entry, minVersion, minRevision, holder, failFast).whenComplete((lease, error) -> {
        if (error != null) {
          future.completeExceptionally(error);
        } else if (!future.complete(lease)) {
          lease.close();
        }
      });
    }

    @Override
    void fail(Throwable error) {
      future.completeExceptionally(error);
    }
  }
}
