package dev.statewright.lease;

import dev.statewright.internal.LeaseEvent;
import dev.statewright.internal.TransitionEvent;
import dev.statewright.lifecycle.Lifecycle;
import dev.statewright.lifecycle.Transition;
import dev.statewright.lifecycle.TransitionListener;
import dev.statewright.time.Scheduler;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A value shared by several holders and released exactly once, when its owner has
 * {@linkplain #retire() retired} it and its last {@link Lease} has closed. Used for cached clients
 * (released = closed) and staged content (released = deleted).
 *
 * <p>{@link #acquire} after {@link #retire} throws {@link ResourceReleasedException}. The release
 * action runs on the thread that closes the last lease, or on the retiring thread if no lease is
 * open; if it throws, the failure is logged and the resource is released all the same.
 *
 * <p>Memory consistency effects: actions in a thread prior to closing a lease or retiring
 * <i>happen-before</i> the release action.
 *
 * @param <T> the leased value
 */
public final class LeasedResource<T> {
  /*
   * Overview: one long word holds the open-lease count and two flags.
   *
   *   word = count << 2 | RELEASED | RETIRED
   *
   * Concurrency: acquire CASes count+1 unless RETIRED is set, so no lease is handed out after the
   * owner lets go. Close adds -1; whoever then observes (count == 0 && RETIRED), either the last
   * closer or the retiring thread, CASes RELEASED in and runs the release action: exactly one wins.
   * The holder set is bookkeeping for messages; the word alone decides.
   *
   * Transitions (see LIFECYCLE and specs/resource-lifecycle.md):
   *   STAGED  -> IN_USE    ACQUIRED          IN_USE -> IN_USE   ACQUIRED, LEASE_CLOSED, RETIRED
   *   IN_USE  -> STAGED    LAST_LEASE_CLOSED IN_USE -> RELEASED DRAINED
   *   STAGED  -> RELEASED  RETIRED           RELEASED is terminal
   *
   * Ordering of this file: lifecycle, fields, public API, transitions, the lease class.
   */

  /** The lease lifecycle every resource follows; {@code specs/resource-lifecycle.md} holds it. */
  public static final Lifecycle<ResourceState, ResourceEvent> LIFECYCLE =
      Lifecycle.builder("resource", ResourceState.class, ResourceEvent.class)
          .initial(ResourceState.STAGED)
          .permit(ResourceState.STAGED, ResourceEvent.ACQUIRED, ResourceState.IN_USE)
          .permit(ResourceState.STAGED, ResourceEvent.RETIRED, ResourceState.RELEASED)
          .permit(ResourceState.IN_USE, ResourceEvent.ACQUIRED, ResourceState.IN_USE)
          .permit(ResourceState.IN_USE, ResourceEvent.LEASE_CLOSED, ResourceState.IN_USE)
          .permit(ResourceState.IN_USE, ResourceEvent.RETIRED, ResourceState.IN_USE)
          .permit(ResourceState.IN_USE, ResourceEvent.LAST_LEASE_CLOSED, ResourceState.STAGED)
          .permit(ResourceState.IN_USE, ResourceEvent.DRAINED, ResourceState.RELEASED)
          .terminal(ResourceState.RELEASED)
          .build();

  private static final System.Logger LOG = System.getLogger(LeasedResource.class.getName());
  private static final String OWNER = "its owner";
  private static final long RETIRED = 1;
  private static final long RELEASED = 2;
  private static final long ONE_LEASE = 4;
  private static final TransitionListener<ResourceState, ResourceEvent> NO_LISTENER = (k, t) -> { };
  private static final VarHandle WORD;
  private static final VarHandle CLOSED;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      WORD = lookup.findVarHandle(LeasedResource.class, "word", long.class);
      CLOSED = lookup.findVarHandle(LeasedResource.Claim.class, "closed", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String name;
  private final T value;
  private final Consumer<? super T> releaseAction;
  private final TransitionListener<ResourceState, ResourceEvent> listener;
  private final Scheduler scheduler;
  /** The open leases, for holders(); null for a resource that only counts them. */
  private final Set<Claim<T>> open;
  @SuppressWarnings("unused") // accessed through WORD
  private volatile long word;
  private volatile Instant retiredAt;
  private volatile Instant releasedAt;
  private volatile String releasedBy;

  private LeasedResource(String name, T value, Consumer<? super T> releaseAction,
      TransitionListener<ResourceState, ResourceEvent> listener, Scheduler scheduler,
      boolean named) {
    this.open = named ? ConcurrentHashMap.newKeySet() : null;
    this.name = name;
    this.value = value;
    this.releaseAction = releaseAction;
    this.listener = listener;
    this.scheduler = scheduler;
  }

  /** A resource that runs {@code releaseAction} once, after retirement and the last lease. */
  public static <T> LeasedResource<T> of(String name, T value, Consumer<? super T> releaseAction) {
    return of(name, value, releaseAction, NO_LISTENER, Scheduler.system());
  }

  /** As {@link #of(String, Object, Consumer)}, reading release times from {@code scheduler}. */
  public static <T> LeasedResource<T> of(String name, T value, Consumer<? super T> releaseAction,
      Scheduler scheduler) {
    return of(name, value, releaseAction, NO_LISTENER, scheduler);
  }

  /** As {@link #of(String, Object, Consumer)}, telling {@code listener} of every transition. */
  public static <T> LeasedResource<T> of(String name, T value, Consumer<? super T> releaseAction,
      TransitionListener<ResourceState, ResourceEvent> listener, Scheduler scheduler) {
    return create(name, value, releaseAction, listener, scheduler, true);
  }

  /**
   * A resource that counts its leases without remembering who holds them: the same lifecycle and
   * guarantees without the holder bookkeeping of {@link #of}, for hot read paths whose holders
   * nobody asks after. {@link #holders()} is always empty.
   */
  public static <T> LeasedResource<T> counted(String name, T value, Consumer<? super T> releaseAction,
      Scheduler scheduler) {
    return create(name, value, releaseAction, NO_LISTENER, scheduler, false);
  }

  private static <T> LeasedResource<T> create(String name, T value,
      Consumer<? super T> releaseAction, TransitionListener<ResourceState, ResourceEvent> listener,
      Scheduler scheduler, boolean named) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a leased resource needs a non-blank name");
    }
    return new LeasedResource<>(name, Objects.requireNonNull(value, "value"),
        Objects.requireNonNull(releaseAction, "releaseAction"),
        Objects.requireNonNull(listener, "listener"), Objects.requireNonNull(scheduler, "scheduler"),
        named);
  }

  /**
   * Opens a lease for {@code holder}.
   *
   * @throws ResourceReleasedException if the owner has retired the resource
   */
  public Lease<T> acquire(String holder) {
    return new Holding<>(this, holder);
  }

  /** The owner lets go: released now if no lease is open, else when the last one closes. */
  public void retire() {
    for (;;) {
      long w = word;
      if ((w & RETIRED) != 0) {
        return;
      }
      if (WORD.compareAndSet(this, w, w | RETIRED)) {
        retiredAt = scheduler.now();
        if (count(w) == 0) {
          release(w | RETIRED, OWNER, ResourceState.STAGED, ResourceEvent.RETIRED);
        } else {
          changed(ResourceState.IN_USE, ResourceEvent.RETIRED, ResourceState.IN_USE);
        }
        return;
      }
    }
  }

  /** The current state. */
  public ResourceState state() {
    return stateOf(word);
  }

  /** Whether the owner has let go (the resource may still be in use). */
  public boolean isRetired() {
    return (word & RETIRED) != 0;
  }

  /** The holders of open leases, one entry per lease; empty for a {@linkplain #counted} resource. */
  public List<String> holders() {
    List<String> holders = new ArrayList<>();
    if (open != null) {
      open.forEach(lease -> holders.add(lease.holder));
    }
    return holders;
  }

  /** The number of open leases. */
  public int leaseCount() {
    return count(word);
  }

  /** The resource's name, as given at creation. */
  public String name() {
    return name;
  }

  private long doAcquire(String holder) {
    for (;;) {
      long w = word;
      if ((w & RETIRED) != 0) {
        throw new ResourceReleasedException(name, holder, releasedAt, releasedBy, retiredAt);
      }
      if (WORD.compareAndSet(this, w, w + ONE_LEASE)) {
        return w;
      }
    }
  }

  /** A new {@code lease} is counted ({@code before} is the word it CASed away): bookkeeping. */
  private void opened(Claim<T> lease, long before) {
    if (open != null) {
      open.add(lease);
    }
    changed(count(before) == 0 ? ResourceState.STAGED : ResourceState.IN_USE,
        ResourceEvent.ACQUIRED, ResourceState.IN_USE);
  }

  private void doClose(Claim<T> lease) {
    if (open != null) {
      open.remove(lease);
    }
    long w = (long) WORD.getAndAdd(this, -ONE_LEASE) - ONE_LEASE;
    if (count(w) > 0) {
      changed(ResourceState.IN_USE, ResourceEvent.LEASE_CLOSED, ResourceState.IN_USE);
    } else if ((w & RETIRED) == 0) {
      changed(ResourceState.IN_USE, ResourceEvent.LAST_LEASE_CLOSED, ResourceState.STAGED);
    } else {
      release(w, lease.holder, ResourceState.IN_USE, ResourceEvent.DRAINED);
    }
  }

  private void release(long drained, String by, ResourceState from, ResourceEvent event) {
    if (!WORD.compareAndSet(this, drained, drained | RELEASED)) {
      return; // the other party of a close/retire race releases
    }
    releasedBy = by;
    releasedAt = scheduler.now();
    try {
      releaseAction.accept(value);
    } catch (Throwable t) { // user code: whatever it throws, the resource is released
      LOG.log(System.Logger.Level.WARNING, () -> "release of '" + name + "' failed", t);
    }
    changed(from, event, ResourceState.RELEASED);
  }

  private void changed(ResourceState from, ResourceEvent event, ResourceState to) {
    assert LIFECYCLE.step(name, from, event) == to;
    TransitionEvent.emit(LIFECYCLE.name(), name, from, event, to);
    if (listener == NO_LISTENER) {
      return; // the read path allocates nothing when nobody listens
    }
    try {
      listener.onTransition(name, new Transition<>(from, event, to));
    } catch (Throwable t) { // user code: isolated from the state word, which has moved already
      LOG.log(System.Logger.Level.WARNING, () -> "listener of '" + name + "' failed", t);
    }
  }

  private static int count(long w) {
    return (int) (w >>> 2);
  }

  private static ResourceState stateOf(long w) {
    if ((w & RELEASED) != 0) {
      return ResourceState.RELEASED;
    }
    return count(w) > 0 ? ResourceState.IN_USE : ResourceState.STAGED;
  }

  @Override
  public String toString() {
    return "LeasedResource[" + name + ", " + state() + (isRetired() ? ", retired" : "")
        + ", holders=" + holders() + "]";
  }

  /**
   * One open lease, of a type its resource's owner chooses: an owner that hands out more than
   * {@link Lease} (a cache's client lease, which knows the client generation it holds) extends
   * this class. Each instance is one lease, counted by its resource from its construction, so a
   * richer lease costs no allocation beyond the lease itself. Identity matters: no
   * {@code equals}/{@code hashCode} override.
   *
   * @param <T> the leased value
   */
  public abstract static class Claim<T> implements Lease<T> {
    private final LeasedResource<T> resource;
    private final String holder;
    private final LeaseEvent jfr;
    @SuppressWarnings("unused") // accessed through CLOSED
    private volatile boolean closed;

    /**
     * Opens a lease on {@code resource} for {@code holder}.
     *
     * @param resource the resource leased
     * @param holder who holds the lease, for messages; not blank
     * @throws ResourceReleasedException if the owner has retired the resource
     */
    protected Claim(LeasedResource<T> resource, String holder) {
      if (holder == null || holder.isBlank()) {
        throw new IllegalArgumentException("a lease of '" + resource.name
            + "' needs a non-blank holder");
      }
      long before = resource.doAcquire(holder);
      this.resource = resource;
      this.holder = holder;
      this.jfr = LeaseEvent.beginIfEnabled(resource.name, holder);
      resource.opened(this, before); // only the set of holders sees this lease before it returns
    }

    @Override
    public final T get() {
      if (closed) {
        throw new IllegalStateException("the lease of '" + resource.name + "' by " + holder
            + " is closed");
      }
      return resource.value;
    }

    @Override
    public final String holder() {
      return holder;
    }

    /** The resource this lease holds. */
    protected final LeasedResource<T> resource() {
      return resource;
    }

    @Override
    public final void close() {
      if (CLOSED.compareAndSet(this, false, true)) {
        if (jfr != null) {
          jfr.commit();
        }
        resource.doClose(this);
      }
    }

    /** Whether {@link #close()} was called. */
    protected final boolean isClosed() {
      return closed;
    }

    @Override
    public String toString() {
      return "Lease[" + resource.name + " by " + holder + (closed ? ", closed]" : "]");
    }
  }

  /** The lease {@link #acquire} hands out. */
  private static final class Holding<T> extends Claim<T> {
    Holding(LeasedResource<T> resource, String holder) {
      super(resource, holder);
    }
  }
}
