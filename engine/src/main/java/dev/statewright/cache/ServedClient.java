package dev.statewright.cache;

import dev.statewright.internal.Leases;
import dev.statewright.lease.LeasedResource;
import dev.statewright.time.Scheduler;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One client a key served, from the moment it is served until the last lease on it closes: its
 * {@link LeasedResource}, the version it was built from, and whether it was superseded (replaced
 * or removed). Its leases are {@link ClientLease}s.
 *
 * @param <C> the client type
 */
final class ServedClient<C> implements Consumer<C> {
  /*
   * Overview: one object per served client (per generation), shared by all its leases, so a lease
   * is one allocation, as LeasedResource's own is: the lease is a LeasedResource.Claim that also
   * points here. The stage superseded() returns is created on first call, one per client.
   *
   * Footprint: a cache may serve a hundred thousand clients, so a client allocates nothing of its
   * own beyond this object and its resource. What every client of a cache shares (the scheduler,
   * the lease warning, what release and a failure report do) is one Owner per cache
   * (ServedClients); this object is its resource's release action and its name (rendered only
   * when a message needs it).
   *
   * Concurrency: `told` is the supersession word, changed by CAS only:
   *   null -> Supersession   a holder asked for superseded() first
   *   null -> TOLD           superseded before anyone asked
   *   Supersession -> TOLD   superseded; the stage is completed by the thread that swapped it out
   * So the stage completes exactly once, and a holder asking after the tell gets a completed one.
   * The update that replaced or removed the client calls supersede() after its CAS and after its
   * transition is told, which lets a listener or another reader see the new client first; so
   * isCurrent() also asks whether the key's entry still serves this client and, if not, helps:
   * it swaps the word itself. A client whose lifetime is over (C12) is served no more even before
   * its timer runs: an open lease asking drops it from the entry, as the first reader that finds
   * it over does (that update retires it and tells the stage); a closed one only tells. Whoever
   * swaps the word to TOLD tells the stage, so the stage is told exactly once and isCurrent()
   * never says false while superseded() would hand out a stage not yet told. Retiring the client
   * (and so, perhaps, closing it) stays with the update.
   *
   * Transitions: CURRENT (told == null or a stage) -> SUPERSEDED (told == TOLD), terminal.
   *
   * Ordering of this file: fields, the lease, supersession, the lease class, the stage class.
   */
  private static final Object TOLD = new Object();
  private static final CompletionStage<Void> DONE = CompletableFuture.completedStage(null);
  private static final VarHandle TOLD_WORD;

  static {
    try {
      TOLD_WORD = MethodHandles.lookup().findVarHandle(ServedClient.class, "told", Object.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The version of the spec it reflects: built from, or reconfigured to in place (C13). */
  volatile long version;
  /** The version of the spec it was built from, for its name and the listener. */
  final long builtVersion;
  final LeasedResource<C> resource;
  /** The counts of the key that serves it (this client is counted there once superseded). */
  final KeyCounts<?> counts;
  /**
   * {@code {refreshAt, expiresAt}} (C12), as ClientExpiry.termOf made it (shared by every client
   * that never expires); never written.
   */
  private final long[] term;
  private final Owner<C> clients;
  @SuppressWarnings("unused") // accessed through TOLD_WORD
  private volatile Object told;

  /**
   * A client of the key of {@code counts}, built from {@code version}; with the cache's lease
   * warning set its leases' holders are remembered (to name them in the warning), at the price of
   * a set entry per lease.
   */
  ServedClient(KeyCounts<?> counts, C client, long version, long[] term, Owner<C> clients) {
    this.version = version;
    this.builtVersion = version;
    this.counts = counts;
    this.term = term;
    this.clients = clients;
    this.resource = Leases.create(this, client, this, clients.leases,
        clients.leaseWarning != null);
  }

  /** The release action of its resource: runs once, after supersession and the last lease. */
  @Override
  public void accept(C client) {
    counts.clientReleased(); // released only after supersede() counted it
    clients.released(this, client);
  }

  /**
   * A lease for {@code holder}.
   *
   * @throws dev.statewright.lease.ResourceReleasedException if the client was superseded
   */
  ClientLease<C> lease(String holder) {
    return new Leased<>(this, holder);
  }

  /** Open leases on this client. */
  int openLeases() {
    return resource.leaseCount();
  }

  /** When the builder's expiry wants it rebuilt; {@link Served#NEVER} for never (C12). */
  long refreshAt() {
    return term[0];
  }

  /** When it must no longer be served; {@link Served#NEVER} for never (C12). */
  long expiresAt() {
    return term[1];
  }

  /** Whether its lifetime is over at {@code now}: it may not be served (C12). */
  boolean expiredAt(long now) {
    long expiresAt = expiresAt();
    return expiresAt != Served.NEVER && now - expiresAt >= 0;
  }

  /** The client now reflects {@code version}: a reconfigurer updated it in place (C13). */
  void reflects(long version) {
    this.version = version;
  }

  // ---------------------------------------------------------------- supersession

  /**
   * Whether its key still serves it: false from the CAS that replaced or removed it on, so nobody
   * handed the new client (a listener told of it, another reader) finds a lease on this one still
   * current (C10). If the update that replaced it has not told its holders yet, this does.
   * {@code open}: asked through an open lease, so it may drop the client if it expired (C12)
   * without releasing it.
   */
  boolean isCurrent(boolean open) {
    if (told == TOLD) {
      return false;
    }
    if (clients.serves(this, open)) {
      return true;
    }
    tell(swapTold()); // replaced, and the update that did it has not superseded it yet
    return false;
  }

  CompletionStage<Void> superseded() {
    for (;;) {
      Object t = told;
      if (t == TOLD) {
        return DONE;
      }
      if (t != null) {
        return (Supersession) t;
      }
      Supersession stage = new Supersession();
      if (TOLD_WORD.compareAndSet(this, null, stage)) {
        return stage;
      }
    }
  }

  /**
   * This client was replaced or removed: tells its holders, then retires it (released once its
   * last lease closes), warning after the lease warning (if any) about holders still on it.
   * Called once, by the update that replaced or removed it, after that update's CAS.
   */
  void supersede() {
    counts.clientRetired();
    Object t = swapTold();
    resource.retire();
    tell(t); // dependents that throw fail their own stages, not this thread
    if (clients.leaseWarning != null && resource.leaseCount() > 0) {
      clients.scheduler.schedule(this::warnIfPinned, clients.leaseWarning);
    }
  }

  /** Sets the word to TOLD; returns what it was (TOLD if another thread swapped it first). */
  private Object swapTold() {
    for (;;) {
      Object t = told;
      if (t == TOLD || TOLD_WORD.compareAndSet(this, t, TOLD)) {
        return t;
      }
    }
  }

  /** Tells the stage the word held before this thread swapped it to TOLD, if there was one. */
  private static void tell(Object swapped) {
    if (swapped instanceof Supersession stage) {
      stage.tell();
    }
  }

  private void warnIfPinned() {
    List<String> holders = resource.holders();
    if (!holders.isEmpty()) {
      clients.pinned(this, holders);
    }
  }

  /**
   * Marks it broken if its key still serves it (C11). A report that marks nothing answers as
   * isCurrent() would: if the client is served no more, its holders are told before the answer.
   */
  boolean reportFailure(Throwable cause, boolean open) {
    if (clients.failed(this, Objects.requireNonNull(cause, "cause"), open)) {
      return true;
    }
    isCurrent(open);
    return false;
  }

  /** Its resource's name: the key and the version it was built from ({@code "redis@v3"}). */
  @Override
  public String toString() {
    return counts.key + "@v" + builtVersion;
  }

  // ---------------------------------------------------------------- what a cache's clients share

  /**
   * What every client of one cache shares: the scheduler, the lease warning, and what a release,
   * a failure report and a pinned warning do (ServedClients, one per cache).
   *
   * @param <C> the client type
   */
  abstract static class Owner<C> {
    final Scheduler scheduler;
    /** Warn about leases still on a client this long after its supersession; null: never. */
    final Duration leaseWarning;
    /** The context every client's resource shares (the scheduler's clock, nobody listening). */
    final Object leases;

    Owner(Scheduler scheduler, Duration leaseWarning) {
      this.scheduler = scheduler;
      this.leaseWarning = leaseWarning;
      this.leases = Leases.context(scheduler);
    }

    /** {@code client}, the value of {@code served}, was released (after its last lease). */
    abstract void released(ServedClient<C> served, C client);

    /**
     * Whether the live entry of the key of {@code served} serves it now; {@code open}: asked
     * through an open lease, which may drop it if it expired (C12).
     */
    abstract boolean serves(ServedClient<C> served, boolean open);

    /** A holder reported {@code served} failing; true if its entry changed. */
    abstract boolean failed(ServedClient<C> served, Throwable cause, boolean open);

    /** {@code holders} still hold leases on {@code served} the lease warning after retiring it. */
    abstract void pinned(ServedClient<C> served, List<String> holders);
  }

  // ---------------------------------------------------------------- the lease

  /** A lease on a served client: one object, counted by the client's resource. */
  private static final class Leased<C> extends LeasedResource.Claim<C> implements ClientLease<C> {
    private final ServedClient<C> client;

    Leased(ServedClient<C> client, String holder) {
      super(client.resource, holder);
      this.client = client;
    }

    @Override
    public long version() {
      return client.version;
    }

    @Override
    public boolean isCurrent() {
      return client.isCurrent(!isClosed());
    }

    @Override
    public CompletionStage<Void> superseded() {
      return client.superseded();
    }

    @Override
    public boolean reportFailure(Throwable cause) {
      return client.reportFailure(cause, !isClosed());
    }
  }

  // ---------------------------------------------------------------- the stage

  /**
   * The stage every lease on one client shares: completed once by the cache, never by a holder,
   * so no holder can tell the others a false supersession. Its dependents are ordinary futures.
   */
  private static final class Supersession extends CompletableFuture<Void> {
    void tell() {
      super.complete(null);
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
      return new CompletableFuture<>();
    }

    @Override
    public boolean complete(Void value) {
      throw refused();
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
      throw refused();
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      throw refused();
    }

    @Override
    public void obtrudeValue(Void value) {
      throw refused();
    }

    @Override
    public void obtrudeException(Throwable ex) {
      throw refused();
    }

    @Override
    public CompletableFuture<Void> completeAsync(Supplier<? extends Void> supplier,
        Executor executor) {
      throw refused();
    }

    @Override
    public CompletableFuture<Void> orTimeout(long timeout, TimeUnit unit) {
      throw refused();
    }

    @Override
    public CompletableFuture<Void> completeOnTimeout(Void value, long timeout, TimeUnit unit) {
      throw refused();
    }

    private static UnsupportedOperationException refused() {
      return new UnsupportedOperationException("superseded() is completed by the cache only");
    }
  }
}
