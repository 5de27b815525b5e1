package dev.statewright.staging;

import dev.statewright.internal.ShutdownHook;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
 * <p>{@link #open} makes the root owner-only ({@code rwx------} where POSIX permissions exist)
 * and removes the scopes of dead processes: each scope directory's name records its owner's pid
 * and start time. A shutdown hook removes this area's scopes when the JVM exits normally.
 *
 * <p>Thread-safe.
 */
public final class StagingArea implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(StagingArea.class.getName());

  private final Path root;
  private final Scheduler scheduler;
  private final Duration closeGrace;
  private final OwnerProcess owner = OwnerProcess.current();
  private final AtomicInteger scopes = new AtomicInteger();
  private final Set<StagingScope> open = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ShutdownHook hook;

  private StagingArea(Path root, Scheduler scheduler, Duration closeGrace) throws IOException {
    this.root = prepare(root);
    this.scheduler = scheduler;
    this.closeGrace = closeGrace;
    sweepOrphans();
    this.hook = ShutdownHook.register("statewright-staging-cleanup", this::deleteOpenScopes);
  }

  /** Opens (creating if needed) the staging root with a 30-second close grace period. */
  public static StagingArea open(Path root) throws IOException {
    return builder(root).open();
  }

  /** Configures a staging area at {@code root}. */
  public static Builder builder(Path root) {
    return new Builder(root);
  }

  /** A new scope for one run; {@code name} says what the run is, for messages. */
  public StagingScope newScope(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a staging scope needs a non-blank name");
    }
    if (closed.get()) {
      throw new IllegalStateException("staging area " + root + " is closed");
    }
    Path dir = root.resolve(owner.prefix() + scopes.incrementAndGet() + "-" + StagingScope.slug(name));
    try {
      ContentTree.createOwnerOnlyDirectory(dir);
      writeOwnerNote(dir, name);
    } catch (IOException e) {
      throw new StagingException("cannot create staging scope '" + name + "' at " + dir + ": " + e,
          null, null, dir, e);
    }
    StagingScope scope = new StagingScope(name, dir, root, scheduler, closeGrace, open::remove);
    open.add(scope);
    return scope;
  }

  /** The root, as a real path. */
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

  private static Path prepare(Path root) throws IOException {
    Objects.requireNonNull(root, "root");
    if (Files.isSymbolicLink(root)) {
      throw new IllegalArgumentException("staging root " + root + " is a symlink; give its real path");
    }
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      Path parent = root.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      ContentTree.createOwnerOnlyDirectory(root);
    } else if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException("staging root " + root + " is not a directory");
    } else if (ContentTree.posix(root)) {
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
    }
    return root.toRealPath();
  }

  private void sweepOrphans() throws IOException {
    try (DirectoryStream<Path> children = Files.newDirectoryStream(root)) {
      for (Path child : children) {
        OwnerProcess.ofScopeDirectory(child.getFileName().toString())
            .filter(o -> !o.isAlive())
            .ifPresent(dead -> {
              ContentTree.delete(child, root);
              LOG.log(System.Logger.Level.INFO, () -> "removed " + child + ", left by process "
                  + dead.pid() + " which is no longer running");
            });
      }
    }
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

  private void writeOwnerNote(Path dir, String name) throws IOException {
    try (OutputStream out = ContentTree.newOwnerOnlyFile(dir.resolve("owner"), false)) {
      out.write(("pid=" + owner.pid() + "\nstarted=" + owner.startMillis() + "\nscope=" + name + "\n")
          .getBytes(StandardCharsets.UTF_8));
    }
  }

  @Override
  public String toString() {
    return "StagingArea[" + root + ", " + open.size() + " open scopes]";
  }

  /** Configures a {@link StagingArea}. Not thread-safe. */
  public static final class Builder {
    private final Path root;
    private Scheduler scheduler = Scheduler.system();
    private Duration closeGrace = Duration.ofSeconds(30);

    private Builder(Path root) {
      this.root = Objects.requireNonNull(root, "root");
    }

    /** Time and threads; default {@link Scheduler#system()}. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** How long closing a scope waits for open leases; default 30 seconds. */
    public Builder closeGrace(Duration closeGrace) {
      Objects.requireNonNull(closeGrace, "closeGrace");
      if (closeGrace.isNegative()) {
        throw new IllegalArgumentException("closeGrace must not be negative, got " + closeGrace);
      }
      this.closeGrace = closeGrace;
      return this;
    }

    /** Opens the area: prepares the root and sweeps dead processes' scopes. */
    public StagingArea open() throws IOException {
      return new StagingArea(root, scheduler, closeGrace);
    }
  }
}
