package dev.statewright.lease;

import dev.statewright.internal.LeaseEvent;
import dev.statewright.internal.Leases;
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
   * Footprint: a cache keeps one resource per served client, so nothing here is allocated per
   * resource that could be shared or left for later: the listener and the clock are one Context,
   * which a cache shares among all its resources; the name may be an object rendered only when a
   * message needs it (both through dev.statewright.internal.Leases); the holder set and the
   * retire and release stamps live in one Book, null for a counted resource until it is retired.
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
  /** The context of {@link #of(String, Object, Consumer)}: nobody listens, the wall clock. */
  private static final Context WALL_CLOCK = new Context(null);
  private static final VarHandle WORD;
  private static final VarHandle BOOK;
  private static final VarHandle CLOSED;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      WORD = lookup.findVarHandle(LeasedResource.class, "word", long.class);
      BOOK = lookup.findVarHandle(LeasedResource.class, "book", Book.class);
      CLOSED = lookup.findVarHandle(LeasedResource.Claim.class, "closed", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
    Leases.provide(LeasedResource::named, Context::new);
  }

  /** The name: a String, or an object whose {@code toString()} is the name, read for messages. */
  private final Object name;
  private final T value;
  private final Consumer<? super T> releaseAction;
  /** The listener and the clock, possibly shared with other resources. */
  private final Context context;
  @SuppressWarnings("unused") // accessed through WORD
  private volatile long word;
  /** The holder set and the stamps; null for a counted resource until it is retired. */
  @SuppressWarnings("unused") // written through BOOK
  private volatile Book<T> book;

  private LeasedResource(Object name, T value, Consumer<? super T> releaseAction, Context context,
      boolean named) {
    this.book = named ? new Book<>(ConcurrentHashMap.newKeySet(), null, null, null) : null;
    this.name = name;
    this.value = value;
    this.releaseAction = releaseAction;
    this.context = context;
  }

  /**
   * A resource that runs {@code releaseAction} once, after retirement and the last lease. Times in
   * messages are read from the wall clock ({@link Instant#now()}); no scheduler is created.
   *
   * @param <T> the leased value
   * @param name the resource's name for messages, holders lists and JFR events; not blank
   * @param value the value every lease hands out; not null
   * @param releaseAction called once with {@code value} when the resource is released (close the
   *     client, delete the files); what it throws is logged and the resource is released anyway
   * @return a resource in state {@code STAGED}, with no lease open
   * @throws IllegalArgumentException if {@code name} is null or blank
   * @throws NullPointerException if any other argument is null
   */
  public static <T> LeasedResource<T> of(String name, T value, Consumer<? super T> releaseAction) {
    return create(name, value, releaseAction, WALL_CLOCK, true);
  }

  /**
   * As {@link #of(String, Object, Consumer)}, reading release times from {@code scheduler}.
   *
   * @param <T> the leased value
   * @param name the resource's name for messages, holders lists and JFR events; not blank
   * @param value the value every lease hands out; not null
   * @param releaseAction called once with {@code value} when the resource is released (close the
   *     client, delete the files); what it throws is logged and the resource is released anyway
   * @param scheduler the clock that stamps the retire and release times in messages
   * @return a resource in state {@code STAGED}, with no lease open
   * @throws IllegalArgumentException if {@code name} is null or blank
   * @throws NullPointerException if any other argument is null
   */
  public static <T> LeasedResource<T> of(String name, T value, Consumer<? super T> releaseAction,
      Scheduler scheduler) {
    return of(name, value, releaseAction, NO_LISTENER, scheduler);
  }

  /**
   * As {@link #of(String, Object, Consumer)}, telling {@code listener} of every transition.
   *
   * @param <T> the leased value
   * @param name the resource's name for messages, holders lists and JFR events; not blank
   * @param value the value every lease hands out; not null
   * @param releaseAction called once with {@code value} when the resource is released (close the
   *     client, delete the files); what it throws is logged and the resource is released anyway
   * @param listener told of every transition, on the thread that made it, with {@code name} as
   *     the key; what it throws is logged and the transition stands
   * @param scheduler the clock that stamps the retire and release times in messages
   * @return a resource in state {@code STAGED}, with no lease open
   * @throws IllegalArgumentException if {@code name} is null or blank
   * @throws NullPointerException if any other argument is null
   */
  public static <T> LeasedResource<T> of(String name, T value, Consumer<? super T> releaseAction,
      TransitionListener<ResourceState, ResourceEvent> listener, Scheduler scheduler) {
    return create(name, value, releaseAction,
        new Context(Objects.requireNonNull(listener, "listener"), clockOf(scheduler)), true);
  }

  /**
   * A resource that counts its leases without remembering who holds them: the same lifecycle and
   * guarantees without the holder bookkeeping of {@link #of}, for hot read paths whose holders
   * nobody asks after. {@link #holders()} is always empty.
   *
   * @param <T> the leased value
   * @param name the resource's name for messages, holders lists and JFR events; not blank
   * @param value the value every lease hands out; not null
   * @param releaseAction called once with {@code value} when the resource is released (close the
   *     client, delete the files); what it throws is logged and the resource is released anyway
   * @param scheduler the clock that stamps the retire and release times in messages
   * @return a resource in state {@code STAGED}, with no lease open
   * @throws IllegalArgumentException if {@code name} is null or blank
   * @throws NullPointerException if any other argument is null
   */
  public static <T> LeasedResource<T> counted(String name, T value, Consumer<? super T> releaseAction,
      Scheduler scheduler) {
    return create(name, value, releaseAction, new Context(NO_LISTENER, clockOf(scheduler)), false);
  }

  /** {@link #counted} or {@link #of} with a name rendered only when a message needs it. */
  private static <T> LeasedResource<T> named(Object name, T value,
      Consumer<? super T> releaseAction, Object context, boolean named) {
    return new LeasedResource<>(Objects.requireNonNull(name, "name"),
        Objects.requireNonNull(value, "value"),
        Objects.requireNonNull(releaseAction, "releaseAction"), (Context) context, named);
  }

  private static <T> LeasedResource<T> create(String name, T value,
      Consumer<? super T> releaseAction, Context context, boolean named) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a leased resource needs a non-blank name");
    }
    return new LeasedResource<>(name, Objects.requireNonNull(value, "value"),
        Objects.requireNonNull(releaseAction, "releaseAction"), context, named);
  }

  private static Scheduler clockOf(Scheduler scheduler) {
    return Objects.requireNonNull(scheduler, "scheduler");
  }

  private Instant now() {
    Scheduler clock = context.clock;
    return clock == null ? Instant.now() : clock.now();
  }

  /**
   * Opens a lease for {@code holder}.
   *
   * @param holder who takes the lease, for {@link #holders()}, messages and JFR events; not blank
   * @return the open lease; close it, in try-with-resources, when done with the value
   * @throws IllegalArgumentException if {@code holder} is null or blank
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
        stamp(now(), null, null);
        if (count(w) == 0) {
          release(w | RETIRED, OWNER, ResourceState.STAGED, ResourceEvent.RETIRED);
        } else {
          changed(ResourceState.IN_USE, ResourceEvent.RETIRED, ResourceState.IN_USE);
        }
        return;
      }
    }
  }

  /**
   * The current state.
   *
   * @return {@code IN_USE} while a lease is open, {@code RELEASED} once the release action has
   *     started, else {@code STAGED}
   */
  public ResourceState state() {
    return stateOf(word);
  }

  /**
   * Whether the owner has let go (the resource may still be in use).
   *
   * @return true once {@link #retire()} has been called
   */
  public boolean isRetired() {
    return (word & RETIRED) != 0;
  }

  /**
   * The holders of open leases, one entry per lease; empty for a {@linkplain #counted} resource.
   *
   * @return a new, mutable list, in no particular order; a holder with two open leases appears
   *     twice
   */
  public List<String> holders() {
    List<String> holders = new ArrayList<>();
    Book<T> b = book;
    if (b != null && b.open != null) {
      b.open.forEach(lease -> holders.add(lease.holder));
    }
    return holders;
  }

  /**
   * The number of open leases.
   *
   * @return the count at the moment of the read, zero or more
   */
  public int leaseCount() {
    return count(word);
  }

  /**
   * The resource's name, as given at creation.
   *
   * @return the name, never blank
   */
  public String name() {
    return name.toString();
  }

  private long doAcquire(String holder) {
    for (;;) {
      long w = word;
      if ((w & RETIRED) != 0) {
        Book<T> b = book;
        throw new ResourceReleasedException(name(), holder, b == null ? null : b.releasedAt,
            b == null ? null : b.releasedBy, b == null ? null : b.retiredAt);
      }
      if (WORD.compareAndSet(this, w, w + ONE_LEASE)) {
        return w;
      }
    }
  }

  /** A new {@code lease} is counted ({@code before} is the word it CASed away): bookkeeping. */
  private void opened(Claim<T> lease, long before) {
    Book<T> b = book;
    if (b != null && b.open != null) {
      b.open.add(lease);
    }
    changed(count(before) == 0 ? ResourceState.STAGED : ResourceState.IN_USE,
        ResourceEvent.ACQUIRED, ResourceState.IN_USE);
  }

  private void doClose(Claim<T> lease) {
    Book<T> b = book;
    if (b != null && b.open != null) {
      b.open.remove(lease);
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
    stamp(null, now(), by);
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
    TransitionListener<ResourceState, ResourceEvent> listener = context.listener;
    if (listener == NO_LISTENER) {
      return; // the read path allocates nothing when nobody listens
    }
    try {
      listener.onTransition(name(), new Transition<>(from, event, to));
    } catch (Throwable t) { // user code: isolated from the state word, which has moved already
      LOG.log(System.Logger.Level.WARNING, () -> "listener of '" + name + "' failed", t);
    }
  }

  /**
   * Records the retire time, or the release time and who released: one CAS, so a release on
   * another thread between retire's CAS and its stamp keeps both.
   */
  private void stamp(Instant retiredAt, Instant releasedAt, String releasedBy) {
    for (;;) {
      Book<T> b = book;
      Book<T> next = b == null ? new Book<>(null, retiredAt, releasedAt, releasedBy)
          : retiredAt != null ? new Book<>(b.open, retiredAt, b.releasedAt, b.releasedBy)
          : new Book<>(b.open, b.retiredAt, releasedAt, releasedBy);
      if (BOOK.compareAndSet(this, b, next)) {
        return;
      }
    }
  }

  /**
   * The open leases, for holders() (null for a resource that only counts them), and when the
   * resource was retired and released, and by whom (each null until it happened).
   */
  private record Book<T>(Set<Claim<T>> open, Instant retiredAt, Instant releasedAt,
      String releasedBy) {
  }

  /**
   * Who is told of transitions and the clock that stamps retire and release times (null for the
   * wall clock); a cache makes one for all its resources.
   */
  private record Context(TransitionListener<ResourceState, ResourceEvent> listener,
      Scheduler clock) {
    Context(Scheduler clock) {
      this(NO_LISTENER, clock);
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

    /**
     * The resource this lease holds.
     *
     * @return the resource that issued this lease; the same for the lease's whole life
     */
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

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once the first {@code close} has run; further closes do nothing
     */
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
