package dev.statewright.harness.canary;

import dev.statewright.harness.staging.RealStaging;
import dev.statewright.harness.staging.StagingProperty;
import dev.statewright.harness.staging.StagingUnderTest;
import dev.statewright.lease.Lease;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;

/** The staging bug classes the harness must keep finding, each as a small broken stager. */
final class StagingCanaries {
  private StagingCanaries() { }

  static List<Canary> all() {
    return List.of(
        staging("previous-target-workspace", "the field failure: a relative module is resolved "
            + "against the previous target's workspace", PreviousWorkspace::new, "S3:"),
        staging("deletes-on-first-lease-close", "staged content is deleted when the first "
            + "target is done, under the others", DeletesOnFirstClose::new, "S2:"),
        staging("non-atomic-copy", "the copy is made under its final name, so half a tree is visible",
            NonAtomicCopy::new, "S4:"),
        staging("double-release", "staged content is released by the scope and by the last lease",
            DoubleRelease::new, "S2:"),
        staging("unchecked-lease", "a lease hands out its path without checking the content is "
            + "still there", UncheckedLease::new, "S1:"),
        staging("follows-escaping-symlinks", "links are dereferenced before staging, so a link out "
            + "of the module copies what it points at", FollowsLinks::new, "S5:"),
        staging("deletes-by-path", "staged content is deleted by re-resolved paths that follow "
            + "links, so a link a target planted in its copy deletes what it points at",
            DeletesByPath::new, "S5-delete:"),
        staging("liveness-by-pid", "a scope's owner is judged alive by its pid, so a process in "
            + "another PID namespace sweeps a live scope", LivenessByPid::new, "S6:"),
        staging("ambiguous-digest", "the digest writes names unescaped and without lengths, so "
            + "two different trees get one digest", AmbiguousDigest::new, "S4-digest:"),
        staging("checks-then-copies-by-path", "the module is checked to be a real directory inside "
            + "the bundle, then copied by path, so one swapped for a link after the check is "
            + "followed out of the bundle", ChecksThenCopiesByPath::new, "S5-swap:"),
        staging("deletes-recursively", "staged content is deleted through open directories but "
            + "by recursion, one Java frame a level, so a copy a target made thousands of levels "
            + "deep overflows the stack and stays", DeletesRecursively::new, "S2-deep:"));
  }

  private static Canary staging(String name, String bug, Function<Path, StagingUnderTest> impl,
      String... catches) {
    return Canary.ofScenario(name, bug, new StagingProperty("canary " + name, impl), catches);
  }

  /** Copies per target; owns the simple lease counting the canaries share. */
  private abstract static class Copying implements StagingUnderTest {
    final Path root;
    boolean scopeClosed;
    Counted staged;

    Copying(Path root) {
      this.root = root;
      try {
        Files.createDirectories(root);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** A copy of the module at {@code into}, made through a partial name unless a canary says not. */
    void copy(Path source, Path into, boolean atomic) throws IOException {
      Path target = atomic ? into.resolveSibling("partial-" + into.getFileName()) : into;
      try (Stream<Path> all = Files.walk(source)) {
        for (Path from : all.sorted().toList()) {
          Path to = target.resolve(source.relativize(from).toString());
          if (Files.isDirectory(from)) {
            Files.createDirectories(to);
          } else {
            Files.copy(from, to);
          }
        }
      }
      if (atomic) {
        Files.move(target, into);
      }
    }

    /** Stages the module once, into {@code 1-app}, as {@code counted} says to count it. */
    Counted once(URI source, Path origin, boolean atomic, Function<Path, Counted> counted)
        throws IOException {
      if (staged == null) {
        Path dir = root.resolve("1-app");
        copy(resolve(source, origin.getParent()), dir, atomic);
        staged = counted.apply(dir);
      }
      return staged;
    }

    static Path resolve(URI source, Path base) {
      return base.resolve(source.getAuthority() + source.getPath()).normalize();
    }

    static void delete(Path dir) {
      try {
        StagingProperty.deleteTree(dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void closeScope() {
      scopeClosed = true;
    }

    @Override
    public void close() { }
  }

  /** One staged copy with a lease count, released as its subclass says. */
  private static class Counted implements StagingUnderTest.Handle {
    final Path dir;
    final AtomicInteger leases = new AtomicInteger();
    final AtomicInteger deletions = new AtomicInteger();
    final Copying owner;

    Counted(Path dir, Copying owner) {
      this.dir = dir;
      this.owner = owner;
    }

    @Override
    public Lease<Path> acquire(String holder) {
      if (owner.scopeClosed) {
        throw new IllegalStateException("released");
      }
      leases.incrementAndGet();
      AtomicBoolean closed = new AtomicBoolean();
      return new Lease<>() {
        @Override
        public Path get() {
          return dir;
        }

        @Override
        public String holder() {
          return holder;
        }

        @Override
        public void close() {
          if (closed.compareAndSet(false, true)) {
            closedOne();
          }
        }
      };
    }

    void closedOne() {
      if (leases.decrementAndGet() == 0 && owner.scopeClosed) {
        release();
      }
    }

    void release() {
      deletions.incrementAndGet();
      Copying.delete(dir);
    }

    @Override
    public int deletions() {
      return deletions.get();
    }

    @Override
    public void verify() {
      // the canaries keep no digest; corruption goes unnoticed (S4), one more thing to catch
    }
  }

  /** The first target gets a workspace; later ones resolve the module against the previous one's. */
  static final class PreviousWorkspace extends Copying {
    private Path previous;

    PreviousWorkspace(Path root) {
      super(root);
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws IOException {
      Path base = previous != null ? previous : origin.getParent(); // the bug
      Path module = resolve(source, base);
      if (!Files.isDirectory(module)) {
        throw new IOException("module not found at path " + module);
      }
      Path workspace = root.resolve(target);
      copy(module, workspace.resolve("modules/app"), true);
      previous = workspace;
      return new Counted(workspace.resolve("modules/app"), this) {
        @Override
        void release() {
          super.release();
          Copying.delete(workspace);
        }

        @Override
        void closedOne() {
          if (leases.decrementAndGet() == 0) {
            release(); // each target cleans its workspace up when it is done
          }
        }
      };
    }

    @Override
    public void closeScope() {
      super.closeScope();
    }
  }

  /** Stages once, but deletes the content when the first lease closes. */
  static final class DeletesOnFirstClose extends Copying {
    DeletesOnFirstClose(Path root) {
      super(root);
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws IOException {
      return once(source, origin, true, dir -> new Counted(dir, this) {
        @Override
        void closedOne() {
          leases.decrementAndGet();
          if (deletions.get() == 0) {
            release(); // the bug: the first close releases
          }
        }
      });
    }

    @Override
    public void closeScope() {
      super.closeScope();
      if (staged != null && staged.leases.get() == 0 && staged.deletions() == 0) {
        staged.release();
      }
    }
  }

  /** Copies straight into the final name. */
  static final class NonAtomicCopy extends Copying {
    NonAtomicCopy(Path root) {
      super(root);
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws IOException {
      return once(source, origin, false, dir -> new Counted(dir, this)); // the bug: not atomic
    }

    @Override
    public void closeScope() {
      super.closeScope();
      if (staged != null && staged.leases.get() == 0) {
        staged.release();
      }
    }
  }

  /** Releases when the scope closes and again when the last lease closes. */
  static final class DoubleRelease extends Copying {
    DoubleRelease(Path root) {
      super(root);
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws IOException {
      return once(source, origin, true, dir -> new Counted(dir, this));
    }

    @Override
    public void closeScope() {
      super.closeScope();
      if (staged != null) {
        staged.release(); // the bug: the last lease's close releases it as well
      }
    }
  }

  /** The engine's staging, but a lease's get() returns the path it had, unchecked. */
  static final class UncheckedLease implements StagingUnderTest {
    private final RealStaging real;

    UncheckedLease(Path root) {
      try {
        this.real = new RealStaging(root);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws Exception {
      Handle checked = real.stage(source, origin, target);
      return new Handle() {
        @Override
        public Lease<Path> acquire(String holder) {
          Lease<Path> lease = checked.acquire(holder);
          Path path = lease.get();
          return new Lease<>() {
            @Override
            public Path get() {
              return path; // the bug: no look at whether the content is still there
            }

            @Override
            public String holder() {
              return holder;
            }

            @Override
            public void close() {
              lease.close();
            }
          };
        }

        @Override
        public int deletions() {
          return checked.deletions();
        }

        @Override
        public void verify() {
          checked.verify();
        }
      };
    }

    @Override
    public void closeScope() {
      real.closeScope();
    }

    @Override
    public void close() {
      real.close();
    }
  }

  /** The engine's staging, fed a copy of the module with its links dereferenced. */
  static final class FollowsLinks implements StagingUnderTest {
    private final RealStaging real;
    private final Path dereferenced;

    FollowsLinks(Path root) {
      try {
        this.real = new RealStaging(root);
        this.dereferenced = Files.createTempDirectory("statewright-dereferenced-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws Exception {
      Path module = Copying.resolve(source, origin.getParent());
      Path copy = dereferenced.resolve(target + "/modules/" + module.getFileName());
      try (Stream<Path> all = Files.walk(module)) {
        for (Path from : all.sorted().toList()) {
          Path to = copy.resolve(module.relativize(from).toString());
          if (Files.isDirectory(from)) {
            Files.createDirectories(to);
          } else {
            Files.copy(from, to); // the bug: follows the link to whatever it points at
          }
        }
      }
      return real.stage(URI.create("file://./modules/" + module.getFileName()),
          copy.getParent().resolveSibling("bundle.cue"), target);
    }

    @Override
    public void closeScope() {
      real.closeScope();
    }

    @Override
    public void close() {
      real.close();
      Copying.delete(dereferenced);
    }
  }

  /** Stages once, correctly counted, but deletes by path following links, as a naive rm -r. */
  static final class DeletesByPath extends Copying {
    DeletesByPath(Path root) {
      super(root);
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws IOException {
      return once(source, origin, true, dir -> new Counted(dir, this) {
        @Override
        void release() {
          deletions.incrementAndGet();
          try (Stream<Path> all = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) { // the bug
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
              Files.deleteIfExists(p);
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          Copying.delete(dir);
        }
      });
    }

    @Override
    public void closeScope() {
      super.closeScope();
      if (staged != null && staged.leases.get() == 0) {
        staged.release();
      }
    }
  }

  /**
   * The engine's staging, beside a neighbour in its own PID namespace whose sweeper judges a
   * scope's owner by the pid in its name: no process there has our pid, so it sweeps our scope.
   */
  static final class LivenessByPid extends Delegating {
    private static final Pattern SCOPE = Pattern.compile("scope-(\\d+)-.*");
    private static final long NEIGHBOURS_ONLY_PROCESS = 1;

    LivenessByPid(Path root) {
      super(root);
    }

    @Override
    public void neighbourOpens() throws IOException {
      try (Stream<Path> scopes = Files.list(root)) {
        for (Path scope : scopes.toList()) {
          Matcher m = SCOPE.matcher(scope.getFileName().toString());
          if (m.matches() && Long.parseLong(m.group(1)) != NEIGHBOURS_ONLY_PROCESS) { // the bug
            Copying.delete(scope);
          }
        }
      }
    }
  }

  /** The engine's staging, with the digest written as text: names unescaped, no lengths. */
  static final class AmbiguousDigest extends Delegating {
    AmbiguousDigest(Path root) {
      super(root);
    }

    @Override
    public Optional<String> digestOf(URI source, Path origin) throws Exception {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      try (Lease<Path> lease = real.stage(source, origin, "digest").acquire("digest");
           Stream<Path> all = Files.walk(lease.get())) {
        Path staged = lease.get();
        for (Path p : all.filter(p -> !p.equals(staged)).sorted().toList()) {
          String entry = Files.isDirectory(p) ? "d " + staged.relativize(p) + "\n" // the bug
              : "f " + staged.relativize(p) + " " + Files.size(p) + "\n";
          sha.update(entry.getBytes(StandardCharsets.UTF_8));
        }
      }
      return Optional.of("sha256:" + HexFormat.of().formatHex(sha.digest()));
    }
  }

  /**
   * Checks the module is a real directory inside the bundle with no link in it, then copies it by
   * path: every file is opened by a path the kernel resolves again, after the check.
   */
  static final class ChecksThenCopiesByPath extends Copying {
    private final Map<Path, Counted> bySource = new HashMap<>();
    private int sequence;

    ChecksThenCopiesByPath(Path root) {
      super(root);
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws IOException {
      if (scopeClosed) {
        throw new IllegalStateException("scope closed");
      }
      Path bundle = origin.getParent().toRealPath();
      Path module = resolve(source, bundle);
      Counted known = bySource.get(module);
      if (known != null) {
        return known;
      }
      check(module, bundle);
      Path dir = root.resolve(++sequence + "-" + module.getFileName());
      try {
        copy(module, dir, true); // the bug: by path, after the check
      } catch (IOException | UncheckedIOException e) {
        delete(dir.resolveSibling("partial-" + dir.getFileName()));
        throw e;
      }
      Counted staged = new Counted(dir, this);
      bySource.put(module, staged);
      return staged;
    }

    private static void check(Path module, Path bundle) throws IOException {
      if (!module.toRealPath().startsWith(bundle)) {
        throw new IOException(module + " leads out of the bundle");
      }
      try (Stream<Path> all = Files.walk(module)) {
        if (all.anyMatch(Files::isSymbolicLink)) {
          throw new IOException(module + " holds a link");
        }
      }
    }

    @Override
    public void closeScope() {
      super.closeScope();
      bySource.values().stream().filter(c -> c.leases.get() == 0).forEach(Counted::release);
    }
  }

  /** Stages once, correctly counted, deleting through open directories, but one frame a level. */
  static final class DeletesRecursively extends Copying {
    DeletesRecursively(Path root) {
      super(root);
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws IOException {
      return once(source, origin, true, dir -> new Counted(dir, this) {
        @Override
        void release() {
          deletions.incrementAndGet();
          try (SecureDirectoryStream<Path> parent = secure(dir.getParent())) {
            deleteEntry(parent, dir.getFileName());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      });
    }

    private static void deleteEntry(SecureDirectoryStream<Path> dir, Path name) throws IOException {
      if (dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
          .readAttributes().isDirectory()) {
        try (SecureDirectoryStream<Path> sub = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
          List<Path> children = new ArrayList<>();
          sub.forEach(child -> children.add(child.getFileName()));
          for (Path child : children) {
            deleteEntry(sub, child); // the bug: the Java stack grows with the tree's depth
          }
        }
        dir.deleteDirectory(name);
      } else {
        dir.deleteFile(name);
      }
    }

    private static SecureDirectoryStream<Path> secure(Path dir) throws IOException {
      DirectoryStream<Path> stream = Files.newDirectoryStream(dir);
      if (stream instanceof SecureDirectoryStream<Path> secure) {
        return secure;
      }
      stream.close();
      throw new IOException("no secure directory stream for " + dir);
    }

    @Override
    public void closeScope() {
      super.closeScope();
      if (staged != null && staged.leases.get() == 0) {
        staged.release();
      }
    }
  }

  /** The engine's staging as it is, for canaries that break one thing beside it. */
  private abstract static class Delegating implements StagingUnderTest {
    final Path root;
    final RealStaging real;

    Delegating(Path root) {
      this.root = root;
      try {
        this.real = new RealStaging(root);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public Handle stage(URI source, Path origin, String target) throws Exception {
      return real.stage(source, origin, target);
    }

    @Override
    public void closeScope() {
      real.closeScope();
    }

    @Override
    public void close() {
      real.close();
    }
  }
}
