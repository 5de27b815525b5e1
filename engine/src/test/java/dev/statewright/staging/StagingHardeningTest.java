package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.lease.Lease;
import dev.statewright.lease.ResourceState;
import dev.statewright.time.Scheduler;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The smaller items of the hostile-filesystem issue (8 and 9): leftovers that are not ours, bad
 * URIs, Errors from streams and actions, origin paths as users type them, and the rules no test
 * pinned before.
 */
class StagingHardeningTest {
  private static final URI MODULE = URI.create("file://./modules/redis");

  @TempDir
  Path tmp;
  private Path bundle; // the bundle file
  private StagingArea area;
  private StagingScope run;

  @BeforeEach
  void open() throws IOException {
    bundle = Bundles.bundleWithRedisModule(tmp.resolve("project/bundle"));
    area = StagingArea.builder(tmp.resolve("staging")).closeGrace(Duration.ZERO).open();
    run = area.newScope("hardening");
  }

  @AfterEach
  void close() {
    area.close();
  }

  @Nested
  class Leftovers {
    @Test
    void aScopeFolderWithAHugePidDoesNotBreakOpen() throws IOException {
      Path odd = Files.createDirectory(area.root().resolve("scope-99999999999999999999-1-1-odd"));
      Files.writeString(odd.resolve("owner"), "pid=99999999999999999999\n");
      StagingArea.open(area.root()).close();
      assertThat(odd).as("an owner file nobody locks: swept").doesNotExist();
    }

    @Test
    void anEmptyScopeFolderLeftByACrashBeforeItsOwnerFileIsSwept() throws IOException {
      Path crashed = Files.createDirectory(area.root().resolve("scope-1-1-1-crashed-after-mkdir"));
      StagingArea.open(area.root()).close();
      assertThat(crashed).doesNotExist();
      assertThat(run.directory().resolve("owner")).as("the live scope is kept").exists();
    }

    @Test
    void aScopeFolderWhoseOwnerFileWasNeverRenamedIsSweptOnceNobodyLocksIt() throws IOException {
      Path crashed = Files.createDirectory(area.root().resolve("scope-1-1-1-crashed-before-rename"));
      Path fresh = Files.writeString(crashed.resolve("owner.new"), "pid=1\n");
      try (FileChannel creator = FileChannel.open(fresh, StandardOpenOption.WRITE)) {
        FileLock held = creator.lock();
        StagingArea.open(area.root()).close();
        assertThat(fresh).as("its creator holds the lock: between its lock and its rename").exists();
        assertThat(held.isValid()).isTrue();
      }
      StagingArea.open(area.root()).close();
      assertThat(crashed).as("nobody holds it: its creator died before the rename").doesNotExist();
    }

    @Test
    void aScopeThisJvmIsCreatingIsNotSwept() throws IOException {
      Path creating = area.root().resolve("scope-1-1-1-being-created");
      ScopeLock lock = ScopeLock.claim(() -> creating, "pid=1\n", dir -> sweep()); // midway
      try (lock) {
        assertThat(Bundles.listing(creating)).containsExactly("owner");
        assertThat(ScopeLock.isHeld(creating)).isTrue();
      }
    }

    @Test
    void aClaimWhoseHalfMadeFolderWasSweptIsMadeAgainUnderTheNextName() throws IOException {
      List<Path> tried = new ArrayList<>();
      Supplier<Path> names = () -> {
        tried.add(area.root().resolve("scope-1-1-" + (tried.size() + 1) + "-swept"));
        return tried.get(tried.size() - 1);
      };
      // what another process's sweep does to an empty scope folder, twice
      ScopeLock lock = ScopeLock.claim(names, "pid=1\n", dir -> {
        if (tried.size() < ScopeLock.ATTEMPTS) {
          rmdir(dir);
        }
      });
      try (lock) {
        assertThat(tried).hasSize(ScopeLock.ATTEMPTS);
        assertThat(lock.directory()).isEqualTo(tried.get(ScopeLock.ATTEMPTS - 1));
        assertThat(Bundles.listing(lock.directory())).containsExactly("owner");
        assertThat(tried.subList(0, ScopeLock.ATTEMPTS - 1)).allSatisfy(p -> assertThat(p).doesNotExist());
      }
    }

    @Test
    void aClaimSweptOnEveryAttemptFailsAndHoldsNothing() {
      List<Path> tried = new ArrayList<>();
      assertThatThrownBy(() -> ScopeLock.claim(() -> {
        tried.add(area.root().resolve("scope-1-1-" + (tried.size() + 1) + "-swept"));
        return tried.get(tried.size() - 1);
      }, "pid=1\n", StagingHardeningTest::rmdir)).isInstanceOf(NoSuchFileException.class);
      assertThat(tried).hasSize(ScopeLock.ATTEMPTS)
          .allSatisfy(p -> assertThat(ScopeLock.isHeld(p)).isFalse())
          .allSatisfy(p -> assertThat(p).doesNotExist());
    }

    @Test
    void filesAndOtherFoldersInTheRootAreLeftAlone() throws IOException {
      Path file = Files.writeString(area.root().resolve("scope-file"), "not a scope");
      Path other = Files.createDirectory(area.root().resolve("notes"));
      Files.writeString(other.resolve("owner"), "");
      StagingArea.open(area.root()).close();
      assertThat(file).exists();
      assertThat(other.resolve("owner")).exists();
    }

    @Test
    void aScopeWhoseOwnerFileIsUnlockedIsSweptAndALiveOneIsNot() throws IOException {
      Path dead = Files.createDirectory(area.root().resolve("scope-1-1-1-dead"));
      Files.writeString(dead.resolve("owner"), "pid=1\n");
      Files.writeString(dead.resolve("partial-1"), "half");
      StagingArea.open(area.root()).close();
      assertThat(dead).doesNotExist();
      assertThat(run.directory().resolve("owner")).exists();
    }

    @Test
    void aClaimThatFailsAfterLockingLetsGoOfItsLock() throws IOException {
      Path dir = area.root().resolve("scope-1-1-1-blocked");
      assertThatThrownBy(() -> ScopeLock.claim(() -> dir, "pid=1\n", d -> {
        try { // a non-empty directory where the owner file is renamed to: the rename fails
          Files.createDirectories(d.resolve("owner/in-the-way"));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      })).isInstanceOf(IOException.class).isNotInstanceOf(NoSuchFileException.class);
      assertThat(ScopeLock.isHeld(dir)).isFalse();
      try (FileChannel sweeper = FileChannel.open(dir.resolve("owner.new"), StandardOpenOption.WRITE);
           FileLock taken = sweeper.tryLock()) {
        assertThat(taken).as("the failed claim's lock was dropped").isNotNull();
      }
    }

    private void sweep() {
      try {
        StagingArea.open(area.root()).close(); // another area of this JVM sweeps
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static void rmdir(Path dir) {
    try {
      Files.delete(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Nested
  class Uris {
    @Test
    void aNulInAFileUriIsAStagingErrorNamingTheSource() {
      URI nul = URI.create("file:///tmp/x%00y");
      assertThatThrownBy(() -> run.stageDirectory(nul, bundle))
          .isInstanceOf(UnresolvableSourceException.class)
          .hasMessageContaining("does not name a path")
          .hasMessageContaining("source file:///tmp/x%00y");
      URI relativeNul = URI.create("file://./x%00y");
      assertThatThrownBy(() -> run.stageDirectory(relativeNul, bundle))
          .isInstanceOf(StagingException.class).hasMessageContaining("source file://./x%00y");
    }
  }

  @Nested
  class Errors {
    @Test
    void anErrorFromAStreamLeavesNothingAndReleasesTheClaim() throws IOException {
      InputStream failing = new InputStream() {
        @Override
        public int read() {
          throw new OutOfMemoryError("simulated");
        }

        @Override
        public int read(byte[] b, int off, int len) {
          throw new OutOfMemoryError("simulated");
        }
      };
      assertThatThrownBy(() -> run.stageStream("x", failing, 100)).isInstanceOf(OutOfMemoryError.class);
      assertThat(Bundles.listing(run.directory())).containsExactly("owner");
      run.close();
      assertThat(run.directory()).as("the failed stage's claim was released").doesNotExist();
    }

    @Test
    void aStreamOfExactlyItsLimitOfOneBufferIsStaged() throws IOException {
      byte[] full = new byte[64 * 1024];
      Staged staged = run.stageStream("buffer", new java.io.ByteArrayInputStream(full), full.length);
      assertThat(Files.size(staged.path())).isEqualTo(full.length);
    }

    @Test
    void anIoFailureReleasesTheClaimToo() throws IOException {
      InputStream failing = new InputStream() {
        @Override
        public int read() throws IOException {
          throw new IOException("disk gone");
        }
      };
      assertThatThrownBy(() -> run.stageStream("x", failing, 100)).isInstanceOf(StagingException.class)
          .hasMessageContaining("disk gone");
      run.close();
      assertThat(run.directory()).doesNotExist();
    }

    @Test
    void aParallelActionThrowingAnErrorIsReportedAsThatTargetsFailure() {
      Staged module = run.stageDirectory(MODULE, bundle);
      Rollout.Report<String> report = Rollout.parallel(List.of(module), List.of("a", "b"), 2,
          Scheduler.system(), (target, paths) -> {
            if (target.equals("a")) {
              throw new StackOverflowError("deep");
            }
          });
      assertThat(report.results().get(0).outcome()).isEqualTo(Rollout.Outcome.FAILED);
      assertThat(report.results().get(0).error()).isInstanceOf(StackOverflowError.class);
      assertThat(report.results()).hasSize(2).doesNotContainNull();
      assertThat(module.state()).isEqualTo(ResourceState.STAGED);
    }
  }

  @Nested
  class Origins {
    private Path cwd() {
      return Path.of("").toAbsolutePath();
    }

    @Test
    void aDotDotOriginAsUsersTypeItWorks() {
      Path typed = cwd().relativize(bundle);
      assertThat(typed.toString()).startsWith("..");
      assertThat(run.stageDirectory(MODULE, typed).path().resolve("module.cue")).exists();
    }

    @Test
    void aDotOriginWorks() {
      Path typed = Path.of(".").resolve(cwd().relativize(bundle));
      assertThat(run.stageDirectory(MODULE, typed).path().resolve("module.cue")).exists();
      assertThat(run.stageDirectory(URI.create("file://../bundle/modules/redis"), typed).path())
          .exists();
    }

    @Test
    void anOriginInADirectoryThatDoesNotExistSaysSo() {
      Path nowhere = tmp.resolve("nowhere/bundle.cue");
      assertThatThrownBy(() -> run.stageDirectory(MODULE, nowhere))
          .isInstanceOf(SourceNotFoundException.class)
          .hasMessageContaining("the origin's directory " + tmp.resolve("nowhere"));
    }

    @Test
    void anOriginReachedThroughASymlinkedDirectoryWorks() throws IOException {
      Path alias = Files.createSymbolicLink(tmp.resolve("alias"), bundle.getParent());
      Staged staged = run.stageDirectory(MODULE, alias.resolve("bundle.cue"));
      assertThat(staged.path().resolve("module.cue")).exists();
      assertThat(staged.origin()).contains(alias.resolve("bundle.cue"));
    }
  }

  @Nested
  class Rules {
    @Test
    void closingTheAreaClosesItsScopesAndRefusesNewOnes() throws IOException {
      Staged module = run.stageDirectory(MODULE, bundle);
      area.close();
      assertThat(module.state()).isEqualTo(ResourceState.RELEASED);
      assertThat(run.directory()).doesNotExist();
      assertThatThrownBy(() -> area.newScope("late")).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("is closed");
      assertThatThrownBy(() -> run.stageStream("x", InputStream.nullInputStream(), 1))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
      assertThatThrownBy(() -> run.stageDirectory(MODULE, bundle))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    }

    @Test
    void anItemIsDeletedWhenItsOwnLastLeaseClosesBeforeTheScopeDrains() {
      Staged first = run.stageDirectory(MODULE, bundle);
      Staged other = run.stageStream("x", InputStream.nullInputStream(), 1);
      Lease<Path> a = first.acquire("a");
      Lease<Path> b = other.acquire("b");
      run.close();
      a.close();
      assertThat(first.path()).as("its own last lease closed").doesNotExist();
      assertThat(run.directory()).as("b still holds the other item").exists();
      b.close();
      assertThat(run.directory()).doesNotExist();
    }

    @Test
    void theAreasRootAndAnythingOutsideItAreNeverDeleted() {
      assertThatThrownBy(() -> ContentTree.delete(area.root(), area.root()))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("not inside");
      assertThatThrownBy(() -> ContentTree.delete(area.root().resolve("../x"), area.root()))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("not inside");
      assertThat(area.root()).exists();
    }

    @Test
    void deletingWhatIsAlreadyGoneIsQuiet() {
      ContentTree.delete(area.root().resolve("never/was/here"), area.root());
      ContentTree.delete(area.root().resolve("nothing"), area.root());
      assertThat(area.root()).exists();
    }
  }

  @Test
  void negativeDurationsAreRefusedNamingTheSetting() {
    StagingArea.Builder builder = StagingArea.builder(tmp.resolve("x"));
    assertThatThrownBy(() -> builder.closeGrace(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("closeGrace must not be negative");
    assertThatThrownBy(() -> builder.sourceOpenTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sourceOpenTimeout must not be negative");
    assertThat(builder.closeGrace(Duration.ZERO).sourceOpenTimeout(Duration.ZERO)).isSameAs(builder);
  }

  /** Issue 16: a Scheduler given to the builder means Scheduler.system() never starts its threads. */
  @Test
  void aGivenSchedulerLeavesTheSystemSchedulerUnstarted() throws Exception {
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), OwnSchedulerStager.class.getName(),
        tmp.resolve("child-staging").toString(), bundle.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String threads;
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      threads = out.readLine();
    }
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(threads).as("threads of a JVM that staged with its own scheduler")
        .startsWith("threads:").contains("own-scheduler").doesNotContain("statewright-");
  }
}
