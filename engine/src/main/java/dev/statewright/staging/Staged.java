package dev.statewright.staging;

import dev.statewright.lease.Lease;
import dev.statewright.lease.LeasedResource;
import dev.statewright.lease.ResourceEvent;
import dev.statewright.lease.ResourceReleasedException;
import dev.statewright.lease.ResourceState;
import dev.statewright.lifecycle.Lifecycle;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Content staged once for every target of a run: a copy of a directory, or a stream's bytes in a
 * file named as given. Each target takes its own {@link Lease}; the content is deleted exactly
 * once, after its scope is closed and its last lease is closed.
 *
 * <p>{@link Lease#get()} checks the content is still there and throws
 * {@link StagedContentMissingException} naming source, origin, path, holder and history if it is
 * not. {@link #acquire} after release throws {@link ResourceReleasedException}.
 *
 * <p>Thread-safe. Memory consistency effects: staging the content <i>happens-before</i> every
 * lease's {@code get()}; closing a lease <i>happens-before</i> the deletion of the content.
 */
public final class Staged {
  /*
   * Overview: a thin layer over a LeasedResource<Path>, which owns the state word, the holders
   * and the exactly-once release; this class adds the content check on get(), the digest and a
   * history for messages.
   *
   * Concurrency: all state lives in `resource` (one CAS-guarded word) and in `history`, a
   * copy-on-write list appended to by whichever thread acts. The release action (delete the
   * content, then give up the scope's claim) runs once, on the thread that closes the last lease
   * or retires the item.
   *
   * Transitions: STAGED -> IN_USE -> STAGED ... -> RELEASED (terminal), as Staged.LIFECYCLE.
   *
   * File order: the API, package-private retire(), helpers, the checked lease.
   */
  /** Staged content follows the lease lifecycle; {@code specs/staging-lifecycle.md} holds it. */
  public static final Lifecycle<ResourceState, ResourceEvent> LIFECYCLE = LeasedResource.LIFECYCLE;

  private final URI source;
  private final Path origin;
  private final Path root;
  private final Path path;
  private final String digest;
  private final Scheduler scheduler;
  private final List<String> history = new CopyOnWriteArrayList<>();
  private final LeasedResource<Path> resource;

  Staged(URI source, Path origin, Path root, Path path, String digest, Scheduler scheduler,
      Runnable deleteContent) {
    this.source = source;
    this.origin = origin;
    this.root = root;
    this.path = path;
    this.digest = digest;
    this.scheduler = scheduler;
    this.resource = LeasedResource.of(source.toString(), path, p -> {
      deleteContent.run();
      note("deleted");
    }, scheduler);
    note("staged at " + path + " (" + digest + ")");
  }

  /**
   * A lease for {@code holder} (a target's name) on the staged path.
   *
   * @param holder the target's name, for {@link #holders()}, the history and messages; not blank
   * @return the open lease; its {@code get} throws {@link StagedContentMissingException} if the
   *     content was deleted outside the staging area
   * @throws IllegalArgumentException if {@code holder} is null or blank
   * @throws ResourceReleasedException if the scope was closed and the content released
   */
  public Lease<Path> acquire(String holder) {
    Lease<Path> lease = resource.acquire(holder);
    note("leased to " + holder);
    return new CheckedLease(lease);
  }

  /**
   * {@code sha256:} + hex over the sorted relative paths and bytes, recorded at staging time.
   *
   * @return the digest, as {@code sha256:} followed by 64 lower-case hex digits
   */
  public String digest() {
    return digest;
  }

  /**
   * Recomputes the digest from disk.
   *
   * @throws StagedContentChangedException if the content changed since staging
   * @throws StagedContentMissingException if it is gone
   */
  public void verify() {
    requirePresent("verify");
    String actual;
    try {
      actual = ContentTree.digest(root);
    } catch (IOException e) {
      throw new StagingException("cannot read staged content to verify it: " + e, source, origin,
          path, e);
    }
    if (!actual.equals(digest)) {
      throw new StagedContentChangedException(source, origin, path, digest, actual);
    }
  }

  /**
   * The source as the caller gave it ({@code stream:<name>} for a stream).
   *
   * @return the source URI, never null
   */
  public URI source() {
    return source;
  }

  /**
   * The file a relative source was resolved against; empty for a stream.
   *
   * @return the origin given to {@code stageDirectory}; empty for a stream or if none was given
   */
  public Optional<Path> origin() {
    return Optional.ofNullable(origin);
  }

  /**
   * The staged directory, or for a stream the staged file named as given.
   *
   * @return the path under the scope directory; it no longer exists once the content is released
   */
  public Path path() {
    return path;
  }

  /**
   * STAGED, IN_USE or RELEASED.
   *
   * @return the state of the content's lease: {@code IN_USE} while a target holds it,
   *     {@code RELEASED} once deleted
   */
  public ResourceState state() {
    return resource.state();
  }

  /**
   * The holders of open leases.
   *
   * @return a new list, one entry per open lease; empty when none is open
   */
  public List<String> holders() {
    return resource.holders();
  }

  /**
   * What happened to this content, oldest first, each with its time.
   *
   * @return an immutable copy: staged, each lease and close, deletion
   */
  public List<String> history() {
    return List.copyOf(history);
  }

  void retire() {
    if (!resource.isRetired()) {
      note("retired by its scope");
      resource.retire();
    }
  }

  private void note(String what) {
    history.add(scheduler.now() + " " + what);
  }

  private void requirePresent(String holder) {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      note("found missing by " + holder);
      throw new StagedContentMissingException(source, origin, path, holder, history());
    }
  }

  @Override
  public String toString() {
    return "Staged[" + source + " at " + path + ", " + state() + "]";
  }

  /** A lease whose {@code get()} checks the content is still there (S1). */
  private final class CheckedLease implements Lease<Path> {
    private final Lease<Path> lease;
    private final AtomicBoolean closed = new AtomicBoolean();

    CheckedLease(Lease<Path> lease) {
      this.lease = lease;
    }

    @Override
    public Path get() {
      Path staged = lease.get();
      requirePresent(lease.holder());
      return staged;
    }

    @Override
    public String holder() {
      return lease.holder();
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        note("lease of " + lease.holder() + " closed");
        lease.close();
      }
    }

    @Override
    public String toString() {
      return "Lease[" + source + " by " + lease.holder() + (closed.get() ? ", closed]" : "]");
    }
  }
}
