package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.statewright.lease.Lease;
import dev.statewright.lease.ResourceReleasedException;
import dev.statewright.lease.ResourceState;
import dev.statewright.testing.Seeds;
import dev.statewright.time.Scheduler;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Staging attacked from outside, through its public API and the promises of DESIGN.md (S1–S6) and
 * specs/staging-lifecycle.md only: a hostile user with write access to the source, to the staged
 * copies it leases and to the staging root (it is the same user), and hostile input. Every attack
 * checks that a victim directory outside the root survives, that the root is left clean once
 * everything is closed, and that an error says what was wrong.
 */
class StagingOutsideAttackTest {
  /** Levels of a tree made deep by renames: far more than a recursive walk has stack for. */
  private static final int DEEP = 5_000;

  @TempDir
  Path tmp;
  private Path victim;
  private StagingArea area;

  @BeforeEach
  void open() throws IOException {
    victim = Files.createDirectories(tmp.resolve("victim"));
    for (int i = 0; i < 5; i++) {
      Files.writeString(victim.resolve("precious-" + i), "precious\n");
    }
    area = StagingArea.builder(tmp.resolve("staging")).closeGrace(Duration.ZERO).open();
  }

  @AfterEach
  void close() throws Exception {
    area.close();
    // a deep tree left by a failed attack is more than @TempDir's cleanup can walk
    new ProcessBuilder("rm", "-rf", "--", tmp.toString()).inheritIO().start().waitFor();
  }

  private void assertVictimSurvives() throws IOException {
    assertThat(Bundles.listing(victim)).as("files outside the staging root")
        .containsExactly("precious-0", "precious-1", "precious-2", "precious-3", "precious-4");
  }

  private void assertRootClean() throws IOException {
    assertThat(Bundles.listing(area.root())).as("entries left under the staging root").isEmpty();
  }

  /** A module directory with a few files, and the bundle file next to it; returns the bundle file. */
  private Path project(String at) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(at));
    Path module = Files.createDirectories(dir.resolve("modules/m"));
    for (int i = 0; i < 5; i++) {
      Files.writeString(module.resolve("f" + i), "ours\n");
    }
    return Files.writeString(dir.resolve("bundle.cue"), "bundle: {}\n");
  }

  /** A chain of {@code depth} directories {@code d/d/…/leaf} made by renames, so no path is long. */
  private Path chain(Path at, int depth) throws IOException {
    Path top = Files.createDirectory(tmp.resolve("chain-top"));
    Files.writeString(top.resolve("leaf"), "x\n");
    for (int i = 1; i < depth; i++) {
      Path next = Files.createDirectory(tmp.resolve("chain-next"));
      Files.move(top, next.resolve("d"));
      Files.move(next, top);
    }
    return Files.move(top, at);
  }

  private static Throwable failureOf(Runnable action) {
    try {
      action.run();
      return null;
    } catch (Throwable t) {
      return t;
    }
  }

  // ---- findings --------------------------------------------------------------------------

  /**
   * A relative module that is a link out of its project is refused (S3, S5); the same link swapped
   * in for the module directory after that check must not be followed when the copy opens it.
   */
  @Test
  void aModuleDirectorySwappedForALinkAfterItsCheckNeverStagesWhatTheLinkPointsAt() throws Exception {
    swapAttack("module swap attack", false);
  }

  /** As above, one level up: the module's parent swapped for a link to a directory holding an m. */
  @Test
  void aModulesParentSwappedForALinkAfterTheCheckNeverStagesWhatTheLinkPointsAt() throws Exception {
    swapAttack("parent swap attack", true);
  }

  /**
   * Flips modules/m (or, for {@code parent}, modules) between itself and a link to a directory
   * outside the project that holds files (or an m of files) of SECRET, while stages run.
   */
  private void swapAttack(String name, boolean parent) throws Exception {
    SplittableRandom random = Seeds.random(name);
    Path origin = project("project/bundle");
    Path real = origin.resolveSibling(parent ? "modules" : "modules/m");
    Path linkTarget = Files.createDirectories(tmp.resolve("secret"));
    Path secretModule = Files.createDirectories(parent ? linkTarget.resolve("m") : linkTarget);
    for (int i = 0; i < 5; i++) {
      Files.writeString(secretModule.resolve("f" + i), "SECRET\n");
    }
    Path hold = Files.createDirectories(tmp.resolve("hold"));
    Files.createSymbolicLink(hold.resolve("link"), linkTarget);
    Files.createSymbolicLink(origin.resolveSibling("out"), linkTarget);
    try (StagingScope scope = area.newScope("static link")) {
      String out = parent ? "file://./out/m" : "file://./out";
      assertThatThrownBy(() -> scope.stageDirectory(URI.create(out), origin))
          .as("the promise attacked: a link out of the project is refused")
          .isInstanceOf(UnsafeSourceException.class).hasMessageContaining("outside");
    }
    List<String> leaks = new ArrayList<>();
    int staged = 0;
    int refused = 0;
    try (Swapper attacker = new Swapper(name, random.nextLong(), false, toLink -> {
      if (toLink) {
        Files.move(real, hold.resolve("real"), StandardCopyOption.ATOMIC_MOVE);
        Files.move(hold.resolve("link"), real, StandardCopyOption.ATOMIC_MOVE);
      } else {
        Files.move(real, hold.resolve("link"), StandardCopyOption.ATOMIC_MOVE);
        Files.move(hold.resolve("real"), real, StandardCopyOption.ATOMIC_MOVE);
      }
    })) {
      attacker.started();
      for (int attempt = 0; attempt < 300; attempt++) {
        try (StagingScope scope = area.newScope("attempt " + attempt)) {
          Staged copy = scope.stageDirectory(URI.create("file://./modules/m"), origin);
          staged++;
          leaks.addAll(secrets(copy.path()));
        } catch (StagingException refusedOrVanished) {
          refused++;
        }
      }
      System.out.println(name + ": " + staged + " staged, " + refused + " refused, "
          + attacker.flips() + " flips");
    }
    assertThat(leaks).as("files from outside the project that were staged").isEmpty();
    assertRootClean();
  }

  /**
   * A target holding a lease makes the staged copy thousands of directories deep (by renames, so
   * no path is long). Releasing it must still delete everything, and the scope must drain (S2).
   */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aStagedCopyMadeThousandsOfLevelsDeepIsStillDeletedAndItsScopeDrains() throws Exception {
    Path origin = project("project");
    StagingScope scope = area.newScope("deep");
    Staged module = scope.stageDirectory(URI.create("file://./modules/m"), origin);
    try (Lease<Path> lease = module.acquire("target-a")) {
      chain(lease.get().resolve("deep"), DEEP);
    }
    scope.close();

    assertThat(module.state()).isEqualTo(ResourceState.RELEASED);
    assertThat(module.path()).as("the staged copy, deleted on release").doesNotExist();
    assertThat(scope.directory()).as("the scope directory, deleted once drained").doesNotExist();
    assertRootClean();
  }

  /** A tree thousands of levels deep in a dead process's scope must not stop the next open (S6). */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aDeepTreeInADeadScopeIsSweptAndDoesNotStopTheNextOpen() throws Exception {
    area.close();
    Path dead = Files.createDirectory(area.root().resolve("scope-999999-1-1-dead"));
    Files.writeString(dead.resolve("owner"), "pid 999999, started 1\n"); // nobody holds its lock
    chain(dead.resolve("junk"), DEEP);

    area = StagingArea.builder(area.root()).closeGrace(Duration.ZERO).open();

    assertRootClean();
  }

  /**
   * A module that holds the staging root (a project with its staging root inside it), or is the
   * root or a scope directory, would copy the copy into itself until the path is too long. It
   * is bad input: refused at once, naming the root (S3: "say plainly what was wrong").
   */
  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void aSourceHoldingTheStagingRootIsRefusedNamingTheRoot() throws Exception {
    Path project = Files.createDirectories(tmp.resolve("project"));
    Files.writeString(project.resolve("module.cue"), "module: {}\n");
    Path origin = Files.writeString(project.resolve("bundle.cue"), "bundle: {}\n");
    try (StagingArea inside = StagingArea.builder(project.resolve(".staging")).closeGrace(Duration.ZERO).open();
         StagingScope scope = inside.newScope("self")) {
      for (URI source : List.of(URI.create("file://./"), inside.root().toUri(), scope.directory().toUri())) {
        assertThatThrownBy(() -> scope.stageDirectory(source, origin)).as(source.toString())
            .isInstanceOf(UnsafeSourceException.class)
            .hasMessageContaining("staging root " + inside.root())
            .hasMessageContaining("source " + source);
      }
      assertThat(Bundles.listing(scope.directory())).as("no partial copy left").containsExactly("owner");
    }
  }

  /**
   * The same user swaps a closed scope's directory for a FIFO while a target still holds a lease.
   * Closing that lease deletes the content and drains the scope: it must not block forever opening
   * the FIFO ("fails within a bound instead of hanging", S5), and must not touch what was moved out.
   */
  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void aScopeDirectorySwappedForAFifoDoesNotHangTheLastLeasesClose() throws Exception {
    Path origin = project("project");
    StagingScope scope = area.newScope("fifo");
    Staged module = scope.stageDirectory(URI.create("file://./modules/m"), origin);
    Lease<Path> lease = module.acquire("target-a");
    scope.close();
    Path away = tmp.resolve("moved-out");
    Files.move(scope.directory(), away);
    mkfifo(scope.directory());

    Thread closer = new Thread(lease::close, "last lease closer");
    closer.start();
    closer.join(TimeUnit.SECONDS.toMillis(10));
    boolean hung = closer.isAlive();
    if (hung) {
      try (OutputStream writer = Files.newOutputStream(scope.directory())) { // lets its open return
        writer.flush();
      }
      closer.join();
    }

    assertThat(hung).as("closing the last lease blocked opening a FIFO").isFalse();
    assertThat(module.state()).isEqualTo(ResourceState.RELEASED);
    assertThat(Bundles.listing(away)).as("what was moved out of the root is left alone")
        .contains("1-m/f0", "owner");
    assertRootClean();
  }

  /**
   * The copy lists a directory, then copies its entries in order: a subdirectory listed as one and
   * swapped for a FIFO while an earlier sibling is copied must fail the stage within the bound,
   * not block the stager opening it (S5). The area's scheduler hands the file opens to the test,
   * which swaps while the stager waits for the first one.
   */
  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void aSubdirectorySwappedForAFifoAfterTheListingFailsTheStageInsteadOfHanging() throws Exception {
    Path origin = project("project");
    Path module = origin.resolveSibling("modules/m");
    Files.createDirectories(module.resolve("a"));
    Files.writeString(module.resolve("a/first"), "ours\n");
    Files.createDirectories(module.resolve("b"));
    Files.writeString(module.resolve("b/second"), "ours\n");
    BlockingQueue<Runnable> opens = new LinkedBlockingQueue<>();
    Scheduler handsOpensToTheTest = new Scheduler() {
      @Override
      public long nanoTime() {
        return System.nanoTime();
      }

      @Override
      public void execute(Runnable task) {
        opens.add(task);
      }

      @Override
      public Cancellable schedule(Runnable task, Duration delay) {
        throw new UnsupportedOperationException("no timers with a zero close grace");
      }
    };
    try (StagingArea own = StagingArea.builder(tmp.resolve("own")).scheduler(handsOpensToTheTest)
             .closeGrace(Duration.ZERO).sourceOpenTimeout(Duration.ofSeconds(10)).open();
         StagingScope scope = own.newScope("fifo subdirectory")) {
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread stager = new Thread(() -> failure.set(failureOf(
          () -> scope.stageDirectory(URI.create("file://./modules/m"), origin))), "stager");
      stager.start();
      Runnable openOfA = opens.poll(1, TimeUnit.MINUTES); // a/first: the stager is inside a now
      assertThat(openOfA).as("the stager asked to open a/first").isNotNull();
      Files.move(module.resolve("b"), tmp.resolve("b-away"));
      mkfifo(module.resolve("b"));
      openOfA.run();
      stager.join(TimeUnit.SECONDS.toMillis(10));
      boolean hung = stager.isAlive();
      if (hung) {
        try (OutputStream writer = Files.newOutputStream(module.resolve("b"))) { // lets its open return
          writer.flush();
        }
        Runnable next;
        while (stager.isAlive()) {
          if ((next = opens.poll(10, TimeUnit.MILLISECONDS)) != null) {
            next.run();
          }
        }
      }
      assertThat(hung).as("the stager blocked opening a FIFO listed as a directory").isFalse();
      assertThat(failure.get()).isInstanceOf(StagingException.class).hasMessageContaining("b");
      assertThat(Bundles.listing(scope.directory())).as("no partial copy left").containsExactly("owner");
    }
  }

  /**
   * A scheduler that refuses the opens (a pool shut down mid-run) fails the stage: what the stage
   * opened for them is closed, nothing partial is left, and the scope still drains.
   */
  @Test
  void aSchedulerThatRefusesTheOpensFailsTheStageAndKeepsNoDescriptor() throws Exception {
    Path fds = Path.of("/proc/self/fd");
    assumeThat(fds).isDirectory();
    Path origin = project("project");
    Scheduler refuses = new Scheduler() {
      @Override
      public long nanoTime() {
        return System.nanoTime();
      }

      @Override
      public void execute(Runnable task) {
        throw new RejectedExecutionException("pool shut down");
      }

      @Override
      public Cancellable schedule(Runnable task, Duration delay) {
        throw new RejectedExecutionException("pool shut down");
      }
    };
    try (StagingArea own = StagingArea.builder(tmp.resolve("own")).scheduler(refuses)
             .closeGrace(Duration.ZERO).open()) {
      long before = count(fds);
      for (int attempt = 0; attempt < 50; attempt++) {
        StagingScope scope = own.newScope("refused " + attempt);
        assertThat(failureOf(() -> scope.stageDirectory(URI.create("file://./modules/m"), origin)))
            .as("attempt " + attempt).hasMessageContaining("pool shut down");
        assertThat(Bundles.listing(scope.directory())).as("no partial copy left").containsExactly("owner");
        scope.close();
        assertThat(scope.directory()).as("the scope drained").doesNotExist();
      }
      assertThat(count(fds)).as("open descriptors after 50 refused stages").isLessThan(before + 10);
      assertThat(Bundles.listing(own.root())).isEmpty();
    }
  }

  /** verify() of a staged copy a target made thousands of levels deep reports a change, no Error. */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void verifyOfACopyMadeThousandsOfLevelsDeepSaysItChanged() throws Exception {
    Path origin = project("project");
    try (StagingScope scope = area.newScope("deep verify")) {
      Staged module = scope.stageDirectory(URI.create("file://./modules/m"), origin);
      chain(module.path().resolve("deep"), DEEP);
      assertThatThrownBy(module::verify).isInstanceOf(StagedContentChangedException.class);
    }
    assertRootClean();
  }

  /** A target whose second item was released: the lease it took on the first is given back. */
  @Test
  void aTargetThatCannotLeaseItsSecondItemGivesBackItsFirst() throws IOException {
    Path origin = project("project");
    StagingScope live = area.newScope("live");
    StagingScope gone = area.newScope("gone");
    Staged module = live.stageDirectory(URI.create("file://./modules/m"), origin);
    Staged released = gone.stageStream("bundle.cue", stream("bundle: {}\n"), 100);
    gone.close();
    Rollout.Report<String> report = Rollout.sequential(List.of(module, released),
        List.of("cluster-a", "cluster-b"), (target, paths) -> { });
    assertThat(report.results()).extracting(Rollout.TargetResult::outcome)
        .containsExactly(Rollout.Outcome.FAILED, Rollout.Outcome.SKIPPED);
    assertThat(report.failures().get(0).error()).isInstanceOf(ResourceReleasedException.class);
    assertThat(module.holders()).as("leases left open on the first item").isEmpty();
    live.close();
    assertRootClean();
  }

  /**
   * A pool that refuses a target (shut down mid-run) is that target's failure: parallel() still
   * returns every target's outcome, the refused one FAILED with the refusal, the rest SKIPPED, and
   * no lease is left open.
   */
  @Test
  void aTargetTheSchedulerRefusesIsThatTargetsFailureAndTheReportIsWhole() throws Exception {
    Path origin = project("project");
    try (StagingScope scope = area.newScope("refused target")) {
      Staged module = scope.stageDirectory(URI.create("file://./modules/m"), origin);
      Scheduler runsOneThenRefuses = new Scheduler() {
        private int calls;

        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public synchronized void execute(Runnable task) {
          if (calls++ > 0) {
            throw new RejectedExecutionException("pool shut down");
          }
          task.run(); // caller runs: allowed by Scheduler
        }

        @Override
        public Cancellable schedule(Runnable task, Duration delay) {
          throw new UnsupportedOperationException();
        }
      };
      Rollout.Report<String> report = Rollout.parallel(List.of(module),
          List.of("cluster-a", "cluster-b", "cluster-c"), 2, runsOneThenRefuses, (target, paths) -> { });
      assertThat(report.results()).extracting(Rollout.TargetResult::outcome).containsExactly(
          Rollout.Outcome.SUCCEEDED, Rollout.Outcome.FAILED, Rollout.Outcome.SKIPPED);
      assertThat(report.failures().get(0).error()).isInstanceOf(RejectedExecutionException.class);
      assertThat(module.holders()).isEmpty();
    }
    assertRootClean();
  }

  // ---- guards: attacks the engine withstands ---------------------------------------------

  /** Scope names that look like paths name a directory directly under the root, nothing else. */
  @Test
  void scopeNamesThatLookLikePathsStayDirectlyUnderTheRoot() throws IOException {
    List<String> names = List.of("../../victim/x", "a/b", "..", ".", "x\ny", "ü名", "x".repeat(300),
        "/abs", "a\0b", "-", "\u202e", " ");
    for (String name : names) {
      if (name.isBlank()) {
        assertThatThrownBy(() -> area.newScope(name)).isInstanceOf(IllegalArgumentException.class);
        continue;
      }
      try (StagingScope scope = area.newScope(name)) {
        assertThat(scope.directory().getParent()).as(name).isEqualTo(area.root());
        assertThat(scope.directory()).isDirectory();
        assertThat(scope.name()).isEqualTo(name);
        assertThat(scope.stageStream("s", new ByteArrayInputStream(new byte[] {1}), 1).path())
            .startsWith(scope.directory());
      }
    }
    assertVictimSurvives();
    assertThat(Bundles.listing(tmp)).as("nothing new beside the root")
        .allMatch(p -> p.startsWith("victim") || p.startsWith("staging"));
    assertRootClean();
  }

  /**
   * Links to the victim planted at every name a scope will write (partial-N, N-name, N-stream)
   * are never written through: the stage fails, and the victim and its files survive release.
   */
  @Test
  void linksPlantedAtTheNamesStagingWillWriteAreNeverWrittenThrough() throws IOException {
    Path origin = project("project");
    try (StagingScope scope = area.newScope("planted")) {
      for (int i = 0; i < 16; i++) {
        Files.createSymbolicLink(scope.directory().resolve("partial-" + i), victim);
        Files.createSymbolicLink(scope.directory().resolve(i + "-m"), victim);
        Files.createSymbolicLink(scope.directory().resolve(i + "-stream"), victim);
      }
      for (int i = 0; i < 4; i++) {
        assertThat(failureOf(() -> scope.stageDirectory(URI.create("file://./modules/m"), origin)))
            .isInstanceOf(StagingException.class).hasMessageContaining("partial-");
        assertThat(failureOf(() -> scope.stageStream("s", stream("evil"), 10)))
            .isInstanceOf(StagingException.class).hasMessageContaining("partial-");
      }
      assertVictimSurvives();
    }
    assertVictimSurvives();
    assertRootClean();
  }

  /**
   * Before release, a target replaces the staged copy with a link to the victim directory, the
   * staged stream with a link to a victim file, and plants a hard link to a victim file in a
   * copy: releasing deletes the links, never what they lead to.
   */
  @Test
  void stagedContentReplacedByLinksToTheVictimIsDeletedAsLinks() throws IOException {
    Path origin = project("project");
    StagingScope scope = area.newScope("links before release");
    Staged module = scope.stageDirectory(URI.create("file://./modules/m"), origin);
    Staged other = scope.stageDirectory(URI.create("file://./modules"), origin);
    Staged stdin = scope.stageStream("bundle.cue", stream("bundle: {}\n"), 100);
    try (Lease<Path> a = module.acquire("attacker");
         Lease<Path> b = stdin.acquire("attacker");
         Lease<Path> c = other.acquire("attacker")) {
      Path copy = a.get();
      Files.move(copy, tmp.resolve("stolen-copy"));
      Files.createSymbolicLink(copy, victim);
      Path file = b.get();
      Files.delete(file);
      Files.createSymbolicLink(file, victim.resolve("precious-1"));
      Files.createLink(c.get().resolve("m/hard"), victim.resolve("precious-2"));
      Files.createSymbolicLink(c.get().resolve("m/soft"), victim);
      scope.close();
    }
    assertThat(module.state()).isEqualTo(ResourceState.RELEASED);
    assertThat(stdin.state()).isEqualTo(ResourceState.RELEASED);
    assertVictimSurvives();
    assertThat(victim.resolve("precious-2")).hasContent("precious");
    assertRootClean();
  }

  /**
   * The same user moves the staging root away and puts a link in its place to a directory laid
   * out like it (a scope and item of the same names, holding someone's files). The last lease's
   * close deletes the item and drains the scope: it must not delete through that link.
   */
  @Test
  void aStagingRootSwappedForALinkIsNotDeletedThrough() throws IOException {
    Path origin = project("project");
    StagingScope scope = area.newScope("root swap");
    Staged module = scope.stageDirectory(URI.create("file://./modules/m"), origin);
    Lease<Path> lease = module.acquire("target-a");
    scope.close();
    Path root = area.root();
    Path lookalike = Files.createDirectories(tmp.resolve("lookalike")
        .resolve(root.relativize(module.path())));
    for (int i = 0; i < 5; i++) {
      Files.writeString(lookalike.resolve("theirs-" + i), "theirs\n");
    }
    Path moved = tmp.resolve("moved-root");
    Files.move(root, moved);
    Files.createSymbolicLink(root, tmp.resolve("lookalike"));
    try {
      lease.close();
    } finally {
      Files.delete(root);
      Files.move(moved, root);
    }
    assertThat(lookalike).as("the directory the link led to").isDirectory();
    assertThat(Bundles.listing(lookalike)).as("files the link led to")
        .containsExactly("theirs-0", "theirs-1", "theirs-2", "theirs-3", "theirs-4");
    assertThat(module.state()).isEqualTo(ResourceState.RELEASED);
  }

  /** Two modules whose 255-byte names differ only at the end are staged apart, and both verify. */
  @Test
  void modulesWithLongNamesThatDifferOnlyAtTheEndAreStagedApart() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("project"));
    Path first = Files.createDirectories(dir.resolve("m".repeat(254) + "1"));
    Path second = Files.createDirectories(dir.resolve("m".repeat(254) + "2"));
    Files.writeString(first.resolve("f"), "first\n");
    Files.writeString(second.resolve("f"), "second\n");
    try (StagingScope scope = area.newScope("long names")) {
      Staged one = scope.stageDirectory(first.toUri(), null);
      Staged two = scope.stageDirectory(second.toUri(), null);
      assertThat(one.path()).isNotEqualTo(two.path());
      assertThat(one.path().resolve("f")).hasContent("first");
      assertThat(two.path().resolve("f")).hasContent("second");
      one.verify();
      two.verify();
    }
    assertRootClean();
  }

  /** A hard link in the source to a file outside is copied, never linked: writing the copy leaves it. */
  @Test
  void aHardLinkInTheSourceIsCopiedAndWritingTheCopyLeavesTheOriginalAlone() throws IOException {
    Path origin = project("project");
    Files.createLink(origin.resolveSibling("modules/m/linked"), victim.resolve("precious-0"));
    try (StagingScope scope = area.newScope("hard link")) {
      Staged module = scope.stageDirectory(URI.create("file://./modules/m"), origin);
      try (Lease<Path> lease = module.acquire("target-a")) {
        Path copy = lease.get().resolve("linked");
        assertThat(copy).hasContent("precious");
        Files.writeString(copy, "overwritten by a target\n");
        Files.delete(copy);
      }
    }
    assertVictimSurvives();
    assertThat(victim.resolve("precious-0")).hasContent("precious");
    assertRootClean();
  }

  /** Two leases of one holder: closing one twice, or from many threads at once, closes only it. */
  @Test
  void aLeaseClosedTwiceAndFromManyThreadsAtOnceClosesOnlyItself() throws Exception {
    Path origin = project("project");
    StagingScope scope = area.newScope("double close");
    Staged module = scope.stageDirectory(URI.create("file://./modules/m"), origin);
    for (int round = 0; round < 50; round++) {
      Lease<Path> first = module.acquire("cluster-a");
      Lease<Path> second = module.acquire("cluster-a");
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> closers = new ArrayList<>();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      for (int t = 0; t < 4; t++) {
        Thread closer = new Thread(() -> {
          try {
            go.await();
            first.close();
          } catch (Throwable e) {
            failure.set(e);
          }
        });
        closer.start();
        closers.add(closer);
      }
      go.countDown();
      for (Thread closer : closers) {
        closer.join();
      }
      assertThat(failure.get()).isNull();
      assertThat(module.holders()).as("round " + round).containsExactly("cluster-a");
      assertThat(second.get().resolve("f0")).hasContent("ours");
      if (round == 49) {
        scope.close(); // retired while the second lease is open: deleted when it closes
        assertThat(second.get().resolve("f0")).hasContent("ours");
      }
      second.close();
      second.close();
    }
    assertThat(module.state()).isEqualTo(ResourceState.RELEASED);
    assertThatThrownBy(() -> module.acquire("late")).isInstanceOf(ResourceReleasedException.class);
    assertRootClean();
  }

  /** A stream that closes its own scope while it is read: the stage ends, and nothing is left. */
  @Test
  void aStreamThatClosesItsScopeWhileItIsReadLeavesNothing() throws IOException {
    StagingScope scope = area.newScope("reentrant close");
    InputStream closesItsScope = new InputStream() {
      private int read;

      @Override
      public int read() {
        if (read == 2) {
          scope.close();
        }
        return read++ < 5 ? 'a' : -1;
      }
    };
    Throwable failure = failureOf(() -> {
      Staged staged = scope.stageStream("s", closesItsScope, 100);
      assertThat(staged.state()).as("retired by the close it raced").isEqualTo(ResourceState.RELEASED);
      assertThatThrownBy(() -> staged.acquire("late")).isInstanceOf(ResourceReleasedException.class);
    });
    assertThat(failure).as("either staged and released at once, or refused").satisfiesAnyOf(
        f -> assertThat(f).isNull(), f -> assertThat(f).isInstanceOf(IllegalStateException.class));
    assertRootClean();
  }

  /** A stream that stages another stream of the same name while it is read: two separate files. */
  @Test
  void aStreamThatStagesTheSameNameWhileItIsReadGetsItsOwnFile() throws IOException {
    try (StagingScope scope = area.newScope("reentrant stage")) {
      AtomicReference<Staged> inner = new AtomicReference<>();
      InputStream stagesAnother = new InputStream() {
        private final InputStream bytes = stream("outer");

        @Override
        public int read() throws IOException {
          if (inner.get() == null) {
            inner.set(scope.stageStream("bundle.cue", stream("inner"), 100));
          }
          return bytes.read();
        }
      };
      Staged outer = scope.stageStream("bundle.cue", stagesAnother, 100);
      assertThat(outer.path()).isNotEqualTo(inner.get().path()).hasContent("outer");
      assertThat(inner.get().path()).hasContent("inner");
      outer.verify();
      inner.get().verify();
    }
    assertRootClean();
  }

  /** 10,000 small files are staged, read by two targets and deleted, and no descriptor is kept. */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void tenThousandSmallFilesAreStagedAndDeletedWithoutKeepingADescriptor() throws Exception {
    Path fds = Path.of("/proc/self/fd");
    assumeThat(fds).isDirectory();
    Path origin = project("project");
    Path many = Files.createDirectories(origin.resolveSibling("modules/m/many"));
    for (int i = 0; i < 10_000; i++) {
      Files.writeString(many.resolve("file-" + i), "content " + i + "\n");
    }
    long before = count(fds);
    try (StagingScope scope = area.newScope("many")) {
      Staged module = scope.stageDirectory(URI.create("file://./modules/m"), origin);
      for (String target : List.of("cluster-a", "cluster-b")) {
        try (Lease<Path> lease = module.acquire(target)) {
          assertThat(count(lease.get().resolve("many"))).isEqualTo(10_000);
          assertThat(lease.get().resolve("many/file-9999")).hasContent("content 9999");
        }
      }
      module.verify();
    }
    assertThat(count(fds)).as("open descriptors after everything closed").isLessThanOrEqualTo(before);
    assertRootClean();
  }

  /** Closing the area while targets hold leases: each copy goes when its last holder lets go. */
  @Test
  void closingTheAreaWhileTargetsHoldLeasesDeletesEachCopyWhenItsLastHolderLetsGo() throws IOException {
    Path origin = project("project");
    StagingScope first = area.newScope("first run");
    StagingScope second = area.newScope("second run");
    Staged module = first.stageDirectory(URI.create("file://./modules/m"), origin);
    Staged stdin = second.stageStream("bundle.cue", stream("bundle: {}\n"), 100);
    Lease<Path> a = module.acquire("cluster-a");
    Lease<Path> b = stdin.acquire("cluster-b");

    area.close();

    assertThatThrownBy(() -> area.newScope("late")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> module.acquire("late")).isInstanceOf(ResourceReleasedException.class);
    assertThat(a.get().resolve("f0")).hasContent("ours");
    assertThat(b.get()).hasContent("bundle: {}\n");
    a.close();
    assertThat(module.path()).doesNotExist();
    assertThat(b.get()).hasContent("bundle: {}\n");
    b.close();
    assertThatThrownBy(b::get).as("get() on a closed lease").isInstanceOf(RuntimeException.class);
    assertRootClean();
    assertVictimSurvives();
  }

  private static InputStream stream(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }

  private static void mkfifo(Path at) throws Exception {
    Process mkfifo = new ProcessBuilder("mkfifo", at.toString()).inheritIO().start();
    assumeThat(mkfifo.waitFor()).as("mkfifo works here").isZero();
  }

  private static long count(Path dir) throws IOException {
    try (Stream<Path> all = Files.list(dir)) {
      return all.count();
    }
  }

  private static List<String> secrets(Path staged) throws IOException {
    List<String> found = new ArrayList<>();
    try (Stream<Path> all = Files.walk(staged)) {
      for (Path p : all.filter(Files::isRegularFile).toList()) {
        if (Files.readString(p).contains("SECRET")) {
          found.add(p.toString());
        }
      }
    }
    return found;
  }
}
