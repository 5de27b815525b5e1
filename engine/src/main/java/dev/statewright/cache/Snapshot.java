package dev.statewright.cache;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * An immutable view of one entry at one instant. {@link #servedSpec()} is exactly the spec the
 * served client was built from (or one its {@link ChangePolicy} judged equivalent), so a listing
 * made of snapshots never pairs one generation's spec with another's client.
 *
 * <p>{@code toString} shows the key, state and versions, never a spec: specs carry credentials.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
public final class Snapshot<K, S, C> {
  private final K key;
  private final EntryState state;
  private final long desiredVersion;
  private final S desiredSpec;
  private final long servedVersion;
  private final S servedSpec;
  private final Throwable lastError;
  private final long nextRetryNanos;
  private final int abandonedBuildsRunning;
  private final long generation;
  private final int openLeases;
  private final int retiredClientsInUse;
  /**
   * This snapshot as {@code snapshot()} returns it, made with it: a node keeps its view as the
   * snapshot, and a reader checks the view's counts and returns this without a load in between.
   */
  final Optional<Snapshot<K, S, C>> asOptional;

  Snapshot(K key, EntryState state, long desiredVersion, S desiredSpec, long servedVersion,
      S servedSpec, Throwable lastError, long nextRetryNanos, int abandonedBuildsRunning,
      long generation, int openLeases, int retiredClientsInUse) {
    this.key = key;
    this.state = state;
    this.desiredVersion = desiredVersion;
    this.desiredSpec = desiredSpec;
    this.servedVersion = servedVersion;
    this.servedSpec = servedSpec;
    this.lastError = lastError;
    this.nextRetryNanos = nextRetryNanos;
    this.abandonedBuildsRunning = abandonedBuildsRunning;
    this.generation = generation;
    this.openLeases = openLeases;
    this.retiredClientsInUse = retiredClientsInUse;
    this.asOptional = Optional.of(this);
  }

  /**
   * The key.
   *
   * @return the entry's key, never null
   */
  public K key() {
    return key;
  }

  /**
   * The entry's state.
   *
   * @return the state at the instant of the snapshot
   */
  public EntryState state() {
    return state;
  }

  /**
   * The newest version known; for a removed entry, the version that removed it.
   *
   * @return the version, zero or more
   */
  public long desiredVersion() {
    return desiredVersion;
  }

  /**
   * The newest spec known; for a removed entry, the last spec it had.
   *
   * @return the spec of {@link #desiredVersion()}
   */
  public S desiredSpec() {
    return desiredSpec;
  }

  /**
   * The version of the spec the served client was built from; empty if none is served.
   *
   * @return the served version; empty while no client is served (before the first good build)
   */
  public OptionalLong servedVersion() {
    return servedSpec == null ? OptionalLong.empty() : OptionalLong.of(servedVersion);
  }

  /**
   * The spec the served client was built from; empty if none is served.
   *
   * @return the served spec, or one its change policy judged equivalent; empty when no client is
   *     served
   */
  public Optional<S> servedSpec() {
    return Optional.ofNullable(servedSpec);
  }

  /**
   * The last build error, cleared by a successful build.
   *
   * @return what the last failed build threw, or why the last update was refused (a stale
   *     version, a spec a source rejected); empty if nothing failed since the last good build
   */
  public Optional<Throwable> lastError() {
    return Optional.ofNullable(lastError);
  }

  /**
   * When the next retry is due ({@code Scheduler.nanoTime()} scale), if one is scheduled.
   *
   * @return the due time, in nanoseconds on the cache's scheduler clock; empty if no retry is
   *     scheduled
   */
  public OptionalLong nextRetryNanos() {
    return nextRetryNanos == 0 ? OptionalLong.empty() : OptionalLong.of(nextRetryNanos);
  }

  /**
   * How many factory calls for this key were abandoned (timed out, superseded, their key deleted
   * or the cache closed) and have not returned yet; each still holds a bulkhead permit (C8).
   *
   * @return the number of such calls, zero or more
   */
  public int abandonedBuildsRunning() {
    return abandonedBuildsRunning;
  }

  /**
   * How many clients the key has served (C15): 1 with the first, one more each time a new client
   * is served, a rebuild that keeps the version included (a dependency change, an
   * invalidation); 0 before the first. It never goes back, not even across a delete and re-add,
   * so a listing shows a rebuild that {@link #servedVersion()} does not.
   *
   * @return the number of clients served so far, 0 before the first
   */
  public long generation() {
    return generation;
  }

  /**
   * Leases open on the served client when this snapshot was taken; 0 if none is served.
   *
   * @return the number of open leases on the served client
   */
  public int openLeases() {
    return openLeases;
  }

  /**
   * Clients of this key replaced (or removed) but still leased when this snapshot was taken: each
   * is released when its last lease closes (C6), and a lease on one has been told so (C10).
   *
   * @return the number of such clients, zero or more
   */
  public int retiredClientsInUse() {
    return retiredClientsInUse;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Snapshot<?, ?, ?> other
        && key.equals(other.key) && state == other.state
        && desiredVersion == other.desiredVersion && Objects.equals(desiredSpec, other.desiredSpec)
        && servedVersion == other.servedVersion && Objects.equals(servedSpec, other.servedSpec)
        && Objects.equals(lastError, other.lastError) && nextRetryNanos == other.nextRetryNanos
        && abandonedBuildsRunning == other.abandonedBuildsRunning
        && generation == other.generation && openLeases == other.openLeases
        && retiredClientsInUse == other.retiredClientsInUse;
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, state, desiredVersion, servedVersion);
  }

  @Override
  public String toString() {
    return "Snapshot[" + key + ", " + state + ", desired=v" + desiredVersion
        + (servedSpec == null ? ", nothing served" : ", served=v" + servedVersion)
        + (lastError == null ? "" : ", lastError=" + lastError.getClass().getSimpleName()) + "]";
  }
}
