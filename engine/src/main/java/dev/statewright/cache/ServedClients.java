package dev.statewright.cache;

import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.List;

/**
 * What the served clients of one cache share (one per cache, made by BuildLauncher): the
 * scheduler, the lease warning, and what a release, a failure report and a pinned warning do. A
 * client keeps this and its key instead of closures of its own, so it allocates nothing per client
 * beyond itself and its resource.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
final class ServedClients<K, S, C> extends ServedClient.Owner<C> {
  private final UserCode<K, C> user;
  private final EntryTable<K, S, C> table;

  ServedClients(Scheduler scheduler, Duration leaseWarning, UserCode<K, C> user,
      EntryTable<K, S, C> table) {
    super(scheduler, leaseWarning);
    this.user = user;
    this.table = table;
  }

  /** {@code client} was released: closed, and the listener told. */
  @Override
  void released(ServedClient<C> served, C client) {
    user.discard(client);
    K key = keyOf(served);
    user.tell(l -> l.onClientReleased(key, served.builtVersion));
  }

  /**
   * Whether the key of {@code served} serves it now. Only the key's live entry can: a tombstone and
   * a closed cache serve nothing, a newer incarnation a client of its own. Once replaced, a client
   * is never served again, so the answer turns false once, for good. A client whose lifetime is
   * over is served no more (C12) even if its timer has not run yet.
   */
  @Override
  boolean serves(ServedClient<C> served, boolean open) {
    Entry<K, S, C> entry = table.get(keyOf(served));
    return entry != null && entry.node().servedClient == served && !table.closed()
        && !over(entry, served, open);
  }

  /**
   * Whether {@code served}'s lifetime is over (C12). If so and {@code drop} (asked through an open
   * lease), drops it from {@code entry} as the first reader that finds it over does, so that
   * update retires it and tells its leases; the lease asking is open, so retiring it releases
   * nothing here. Asked through a closed lease it does not: a query never runs the closer.
   */
  private boolean over(Entry<K, S, C> entry, ServedClient<C> served, boolean drop) {
    if (served.expiresAt() == Served.NEVER) {
      return false;
    }
    long now = scheduler.nanoTime();
    if (!served.expiredAt(now)) {
      return false;
    }
    if (drop) {
      table.update(entry, n -> n.expired(served, now));
    }
    return true;
  }

  /**
   * Marks {@code target} broken if its key still serves it (C11). The key's live entry is the
   * only one that can: a newer incarnation serves a client of its own, and an expired client is
   * served no more (C12).
   *
   * @return whether the entry changed
   */
  @Override
  boolean failed(ServedClient<C> target, Throwable cause, boolean open) {
    Entry<K, S, C> entry = table.get(keyOf(target));
    return entry != null && !over(entry, target, open) && table.update(entry,
        n -> n.invalidated(target, cause, scheduler.nanoTime())).changed();
  }

  /** Leases pin a replaced client longer than the lease warning: logged, and the listener told. */
  @Override
  void pinned(ServedClient<C> served, List<String> holders) {
    K key = keyOf(served);
    long version = served.builtVersion;
    user.log(System.Logger.Level.WARNING, holders.size() + " lease(s) pin the client of '" + key
        + "' built for version " + version + " longer than " + leaseWarning
        + " after it was replaced, held by " + holders, null);
    user.tell(l -> l.onLeasesPinned(key, version, holders));
  }

  @SuppressWarnings("unchecked") // a cache's clients are made for that cache's keys only
  private K keyOf(ServedClient<C> served) {
    return (K) served.counts.key;
  }
}
