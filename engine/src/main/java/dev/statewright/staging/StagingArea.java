package dev.statewright.staging;

import dev.statewright.internal.ShutdownHook;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An owner-only root under which runs stage content, one {@link StagingScope} per run. Staging
 * writes and deletes nothing outside this root.
 *
 * <p>{@link #open} refuses a root, or a scope directory in it, owned by another user (who could
 * redirect our writes), makes the root owner-only ({@code rwx------} where POSIX permissions
 * exist) and removes the scopes of dead processes: each live scope holds an exclusive lock on its
 * {@code owner} file, which the kernel drops when its process dies, in any PID namespace. A
 * shutdown hook removes this area's scopes when the JVM exits normally.
 *
 * <p>Thread-safe. Memory consistency effects: actions prior to {@code newScope} returning
 * <i>happen-before</i> actions in other threads on that scope.
 */
public final class StagingArea implements AutoCloseable {
  /*
   * Overview: the area owns its root and the set of open scopes; each scope owns its directory
   * and the lock on its owner file. `closed` is set once (OPEN -> CLOSED, terminal); closing
   * closes every scope still open.
   *
   * Concurrency: `open` is a concurrent set; a scope removes itself when it drains. newScope
   * racing close() may create a scope after close listed the open ones: it is refused if it sees
   * `closed`, and otherwise is closed by its owner as any scope. Scope numbers come from one
   * counter per root shared by this JVM's areas (NUMBERS), so two areas on one root never pick
   * the same directory name; another process has another pid in its prefix.
   *
   * File order: factories, the API, preparing and sweeping the root, the builder.
   */
  private static final System.Logger LOG = System.getLogger(StagingArea.class.getName());

  private final Path root;
  private final Scheduler scheduler;
  private final Duration closeGrace;
  private final ContentTree.Opener opener;
  /** Scope numbers per root, shared by every area of this JVM on it: names never collide. */
  private static final ConcurrentHashMap<Path, AtomicInteger> NUMBERS = new ConcurrentHashMap<>();

  private final OwnerProcess owner = OwnerProcess.current();
  private final AtomicInteger scopes;
  private final Set<StagingScope> open = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ShutdownHook hook;

  private StagingArea(Path root, Scheduler scheduler, Duration closeGrace, Duration openBound)
      throws IOException {
    this.root = prepare(root);
    this.scopes = NUMBERS.computeIfAbsent(this.root, r -> new AtomicInteger());
    this.scheduler = scheduler;
    this.closeGrace = closeGrace;
    this.opener = new ContentTree.Opener(scheduler, openBound);
    sweepOrphans();
    this.hook = ShutdownHook.register("statewright-staging-cleanup", this::deleteOpenScopes);
  }

  /**
   * Opens (creating if needed) the staging root with a 30-second close grace period.
   *
   * @param root the staging root: a directory the current user owns, or a path to create; not a
   *     symlink
   * @return the open area, its root made owner-only and dead processes' scopes removed
   * @throws IOException if the root cannot be created, read or made owner-only, or is owned by
   *     another user ({@link java.nio.file.AccessDeniedException})
   * @throws IllegalArgumentException if {@code root} is a symlink or not a directory
   */
  public static StagingArea open(Path root) throws IOException {
    return builder(root).open();
  }

  /**
   * Configures a staging area at {@code root}.
   *
   * @param root the staging root, checked only when the builder opens it
   * @return a builder with the defaults: the system scheduler, a 30-second close grace and a
   *     5-second source open timeout
   * @throws NullPointerException if {@code root} is null
   */
  public static Builder builder(Path root) {
    return new Builder(root);
  }

  /**
   * A new scope for one run; {@code name} says what the run is, for messages.
   *
   * @param name what the run is, for messages and the scope directory's name; not blank
   * @return the open scope, with its own owner-only directory under the root
   * @throws IllegalArgumentException if {@code name} is null or blank
   * @throws IllegalStateException if this area is closed
   * @throws StagingException if the scope directory or its owner file cannot be created
   */
  public StagingScope newScope(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a staging scope needs a non-blank name");
    }
    requireOpen();
    ScopeLock lock = lock(name);
    StagingScope scope = new StagingScope(name, lock.directory(), root, scheduler, closeGrace,
        opener, lock, open::remove);
    open.add(scope);
    return scope;
  }

  /**
   * The root, as a real path.
   *
   * @return the absolute root with symlinks in its parents resolved
   */
  public Path root() {
    return root;
  }

  /** Closes every open scope (each waits up to the grace period) and drops the shutdown hook. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      List.copyOf(open).forEach(StagingScope::close);
      hook.remove();
    }
  }

  private void requireOpen() {
    if (closed.get()) {
      throw new IllegalStateException("staging area " + root + " is closed");
    }
  }

  /** Claims a new scope directory, {@code scope-<pid>-<start>-<n>-<name>}, and locks its owner file. */
  private ScopeLock lock(String name) {
    String slug = StagingScope.slug(name);
    try {
      return ScopeLock.claim(() -> root.resolve(owner.prefix() + scopes.incrementAndGet() + "-" + slug),
          owner.label(name), dir -> { });
    } catch (IOException e) {
      throw new StagingException("cannot create staging scope '" + name + "' in " + root + ": " + e,
          null, null, null, e);
    }
  }

  // ---- preparing the root ----------------------------------------------------------------

  private static Path prepare(Path root) throws IOException {
    Objects.requireNonNull(root, "root");
    if (Files.isSymbolicLink(root)) {
      throw new IllegalArgumentException("staging root " + root + " is a symlink; give its real path");
    }
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      create(root);
    } else if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException("staging root " + root + " is not a directory");
    } else {
      requireOwnedByCurrentUser(root, "staging root");
      makeOwnerOnly(root);
    }
    return root.toRealPath();
  }

  private static void create(Path root) throws IOException {
    Files.createDirectories(root.toAbsolutePath().getParent()); // "/" exists: never created here
    ContentTree.createOwnerOnlyDirectory(root);
  }

  private static void makeOwnerOnly(Path root) throws IOException {
    if (ContentTree.posix(root)) {
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
    }
  }

  /** Refuses {@code dir} unless the current user owns it: another owner could redirect our writes. */
  static void requireOwnedByCurrentUser(Path dir, String what) throws IOException {
    UserPrincipal owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS);
    UserPrincipal me = currentUser(dir);
    if (!owner.equals(me)) {
      throw new AccessDeniedException(dir.toString(), null, what + " is owned by " + owner.getName()
          + ", not by the current user " + me.getName() + "; staging refuses a directory another"
          + " user could write");
    }
  }

  /** The effective user: the owner of {@code /proc/self} where there is one, else by name. */
  private static UserPrincipal currentUser(Path near) throws IOException {
    Path self = near.getFileSystem().getPath("/proc/self");
    if (Files.isDirectory(self)) {
      return Files.getOwner(self);
    }
    return near.getFileSystem().getUserPrincipalLookupService()
        .lookupPrincipalByName(System.getProperty("user.name"));
  }

  // ---- sweeping --------------------------------------------------------------------------

  /** Removes scopes whose owner file's lock can be taken: their process is gone. */
  private void sweepOrphans() throws IOException {
    try (DirectoryStream<Path> children = Files.newDirectoryStream(root, "scope-*")) {
      for (Path child : children) {
        if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
          requireOwnedByCurrentUser(child, "scope directory");
          ScopeLock.removeIfAbandoned(child, this::removeOrphan);
        }
      }
    }
  }

  private void removeOrphan(Path scope) {
    ContentTree.delete(scope, root);
    LOG.log(System.Logger.Level.INFO, () -> "removed " + scope + ", left by a process that is no"
        + " longer running (its owner file was not locked)");
  }

  private void deleteOpenScopes() {
    for (StagingScope scope : open) {
      try {
        ContentTree.delete(scope.directory(), root);
      } catch (RuntimeException e) {
        // best effort at exit; the next open() sweeps what is left
      }
    }
  }

  @Override
  public String toString() {
    return "StagingArea[" + root + ", " + open.size() + " open scopes]";
  }

  /** Configures a {@link StagingArea}. Not thread-safe. */
  public static final class Builder {
    private final Path root;
    private Scheduler scheduler; // null: Scheduler.system(), looked up only when opening
    private Duration closeGrace = Duration.ofSeconds(30);
    private Duration sourceOpenTimeout = Duration.ofSeconds(5);

    private Builder(Path root) {
      this.root = Objects.requireNonNull(root, "root");
    }

    /**
     * Time and threads; default {@link Scheduler#system()}, touched only if none is given.
     *
     * @param scheduler runs the close-grace waits and source-open timeouts, and stamps history
     * @return this builder
     * @throws NullPointerException if {@code scheduler} is null
     */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * How long closing a scope waits for open leases; default 30 seconds.
     *
     * @param closeGrace the wait; zero does not wait, and content still leased then is deleted
     *     when its last lease closes
     * @return this builder
     * @throws NullPointerException if {@code closeGrace} is null
     * @throws IllegalArgumentException if {@code closeGrace} is negative
     */
    public Builder closeGrace(Duration closeGrace) {
      this.closeGrace = requireNonNegative(closeGrace, "closeGrace");
      return this;
    }

    /**
     * How long opening one source file may take before the stage fails with
     * {@link UnsafeSourceException}; default 5 seconds. Opening a regular file takes
     * microseconds; only a FIFO or device swapped in for one blocks (S5).
     *
     * @param timeout the longest one open may take
     * @return this builder
     * @throws NullPointerException if {@code timeout} is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public Builder sourceOpenTimeout(Duration timeout) {
      this.sourceOpenTimeout = requireNonNegative(timeout, "sourceOpenTimeout");
      return this;
    }

    /**
     * Opens the area: checks and prepares the root and sweeps dead processes' scopes.
     *
     * @return the open area
     * @throws IOException if the root cannot be created, read or made owner-only, or it or a
     *     scope directory in it is owned by another user
     *     ({@link java.nio.file.AccessDeniedException})
     * @throws IllegalArgumentException if the root is a symlink or not a directory
     */
    public StagingArea open() throws IOException {
      return new StagingArea(root, scheduler != null ? scheduler : Scheduler.system(), closeGrace,
          sourceOpenTimeout);
    }

    private static Duration requireNonNegative(Duration duration, String name) {
      Objects.requireNonNull(duration, name);
      if (duration.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative, got " + duration);
      }
      return duration;
    }
  }
}
