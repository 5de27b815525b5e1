package dev.statewright.cache;

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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One client a key served, from the moment it is served until the last lease on it closes: its
 * {@link LeasedResource}, the version it was built from, and whether it was superseded (replaced
 * or removed). Its leases are {@link ClientLease}s.
 *
 * @param <C> the client type
 */
final class ServedClient<C> {
  /*
   * Overview: one object per served client (per generation), shared by all its leases, so a lease
   * is one allocation, as LeasedResource's own is: the lease is a LeasedResource.Claim that also
   * points here. The stage superseded() returns is created on first call, one per client.
   *
   * Concurrency: `told` is the supersession word, changed by CAS only:
   *   null -> Supersession   a holder asked for superseded() first
   *   null -> TOLD           superseded before anyone asked
   *   Supersession -> TOLD   superseded; the stage is completed by the thread that swapped it out
   * So the stage completes exactly once, and a holder asking after the tell gets a completed one.
   * supersede() is called once per client, by the update that replaced or removed it.
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

  /** Where a failure a holder reports goes: the cache invalidates this client if still served. */
  @FunctionalInterface
  interface Reports<C> {
    boolean failed(ServedClient<C> client, Throwable cause);
  }

  /** The version of the spec it reflects: built from, or reconfigured to in place (C13). */
  volatile long version;
  final LeasedResource<C> resource;
  private final Reports<C> reports;
  private final Scheduler scheduler;
  /** Warn about leases still on this client this long after its supersession; null: never. */
  private final Duration warnAfter;
  /** Told the holders still on this client {@link #warnAfter} after its supersession. */
  private final Consumer<List<String>> pinned;
  /** Clients of this key superseded but not yet released; this one counts from its supersession. */
  private final AtomicInteger retiredInUse;
  @SuppressWarnings("unused") // accessed through TOLD_WORD
  private volatile Object told;

  /**
   * A served client; with {@code warnAfter} set its leases' holders are remembered (to name them
   * in the warning), at the price of a set entry per lease.
   */
  ServedClient(String name, C client, long version, Consumer<? super C> release,
      AtomicInteger retiredInUse, Reports<C> reports, Scheduler scheduler, Duration warnAfter,
      Consumer<List<String>> pinned) {
    Consumer<C> released = c -> {
      retiredInUse.decrementAndGet(); // released only after supersede() counted it
      release.accept(c);
    };
    this.resource = warnAfter != null ? LeasedResource.of(name, client, released, scheduler)
        : LeasedResource.counted(name, client, released, scheduler);
    this.version = version;
    this.reports = reports;
    this.retiredInUse = retiredInUse;
    this.scheduler = scheduler;
    this.warnAfter = warnAfter;
    this.pinned = pinned;
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

  /** The client now reflects {@code version}: a reconfigurer updated it in place (C13). */
  void reflects(long version) {
    this.version = version;
  }

  // ---------------------------------------------------------------- supersession

  boolean isCurrent() {
    return told != TOLD;
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
    retiredInUse.incrementAndGet();
    Object t = TOLD_WORD.getAndSet(this, TOLD);
    resource.retire();
    if (t instanceof Supersession stage) {
      stage.tell(); // dependents that throw fail their own stages, not this thread
    }
    if (warnAfter != null && resource.leaseCount() > 0) {
      scheduler.schedule(this::warnIfPinned, warnAfter);
    }
  }

  private void warnIfPinned() {
    List<String> holders = resource.holders();
    if (!holders.isEmpty()) {
      pinned.accept(holders);
    }
  }

  boolean reportFailure(Throwable cause) {
    return reports.failed(this, Objects.requireNonNull(cause, "cause"));
  }

  @Override
  public String toString() {
    return "ServedClient[" + resource.name() + (isCurrent() ? "]" : ", superseded]");
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
      return client.isCurrent();
    }

    @Override
    public CompletionStage<Void> superseded() {
      return client.superseded();
    }

    @Override
    public boolean reportFailure(Throwable cause) {
      return client.reportFailure(cause);
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
