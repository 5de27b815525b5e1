package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.lease.Lease;
import dev.statewright.lease.ResourceReleasedException;
import dev.statewright.lease.ResourceState;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** S1–S5: bad input, attacks, and the lease rules of staged content. */
class StagingTest {
  private static final URI MODULE = URI.create("file://./modules/redis");

  @TempDir
  Path tmp;
  private Path bundle;
  private StagingArea area;
  private StagingScope run;

  @BeforeEach
  void open() throws IOException {
    bundle = Bundles.bundleWithRedisModule(tmp.resolve("project/bundle"));
    area = StagingArea.builder(tmp.resolve("staging")).closeGrace(Duration.ofMillis(100)).open();
    run = area.newScope("bundle apply");
  }

  @AfterEach
  void close() {
    area.close();
  }

  private void assertNothingStagedLeftBehind() throws IOException {
    assertThat(Bundles.listing(run.directory())).containsExactly("owner");
  }

  @Nested
  class Sources {
    @Test
    void resolvesTheFormsUsersWriteAgainstTheOriginsDirectory() throws IOException {
      Path shared = Files.createDirectories(tmp.resolve("project/shared"));
      Files.writeString(shared.resolve("x.cue"), "x: 1\n");

      assertThat(run.stageDirectory(MODULE, bundle).path().resolve("module.cue")).exists();
      assertThat(run.stageDirectory(URI.create("file://../shared"), bundle).path().resolve("x.cue")).exists();
      assertThat(run.stageDirectory(shared.toUri(), null).path().resolve("x.cue")).exists();
      assertThat(run.stageDirectory(URI.create("file://" + shared), null).digest())
          .startsWith("sha256:").hasSize(7 + 64);
    }

    @Test
    void refusesARelativeSourceThatClimbsOutOfItsProject() {
      assertThatThrownBy(() -> run.stageDirectory(URI.create("file://../../etc"), bundle))
          .isInstanceOf(UnsafeSourceException.class)
          .hasMessageContaining("outside " + tmp.resolve("project"))
          .hasMessageContaining("source file://../../etc, origin " + bundle);
    }

    @Test
    void refusesARelativeSourceWithoutAnOrigin() {
      assertThatThrownBy(() -> run.stageDirectory(MODULE, null))
          .isInstanceOf(UnresolvableSourceException.class)
          .hasMessageContaining("relative source needs an origin file")
          .hasMessageContaining("a stream has none");
    }

    @Test
    void refusesOtherSchemesAndHostsSayingWhatToWrite() {
      assertThatThrownBy(() -> run.stageDirectory(URI.create("https://example.com/m"), bundle))
          .isInstanceOf(UnresolvableSourceException.class).hasMessageContaining("unsupported scheme 'https'");
      assertThatThrownBy(() -> run.stageDirectory(URI.create("file://modules/redis"), bundle))
          .isInstanceOf(UnresolvableSourceException.class)
          .hasMessageContaining("names host 'modules'; write file://./modules/redis");
      assertThatThrownBy(() -> run.stageDirectory(URI.create("file:modules"), bundle))
          .isInstanceOf(UnresolvableSourceException.class).hasMessageContaining("not a form");
    }

    @Test
    void saysWhichSourceDoesNotExist() {
      assertThatThrownBy(() -> run.stageDirectory(URI.create("file://./modules/nginx"), bundle))
          .isInstanceOf(SourceNotFoundException.class)
          .hasMessageContaining("source not found at " + bundle.getParent().resolve("modules/nginx"))
          .hasMessageContaining("origin " + bundle);
      assertThatThrownBy(() -> run.stageDirectory(URI.create("file://./bundle.cue"), bundle))
          .isInstanceOf(SourceNotFoundException.class).hasMessageContaining("is not a directory");
    }

    @Test
    void refusesASymlinkPointingOutOfTheModule() throws IOException {
      Path module = bundle.getParent().resolve("modules/redis");
      Files.createSymbolicLink(module.resolve("passwd"), Path.of("../../../../../../etc/passwd"));

      assertThatThrownBy(() -> run.stageDirectory(MODULE, bundle))
          .isInstanceOf(UnsafeSourceException.class)
          .hasMessageContaining("symlink passwd -> ../../../../../../etc/passwd points out of the source tree");
      assertNothingStagedLeftBehind();
    }

    @Test
    void refusesAbsoluteSymlinksAndKeepsLinksThatStayInside() throws IOException {
      Path module = bundle.getParent().resolve("modules/redis");
      Files.createSymbolicLink(module.resolve("svc.yaml"), Path.of("templates/service.yaml"));
      Staged staged = run.stageDirectory(MODULE, bundle);
      assertThat(Files.isSymbolicLink(staged.path().resolve("svc.yaml"))).isTrue();
      assertThat(Files.readString(staged.path().resolve("svc.yaml"))).isEqualTo("kind: Service\n");

      Files.createSymbolicLink(module.resolve("abs"), module.resolve("module.cue"));
      StagingScope other = area.newScope("second run");
      assertThatThrownBy(() -> other.stageDirectory(MODULE, bundle))
          .isInstanceOf(UnsafeSourceException.class).hasMessageContaining("is absolute");
    }

    @Test
    void refusesSpecialFiles() throws Exception {
      Path fifo = bundle.getParent().resolve("modules/redis/control.fifo");
      Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
      assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0).isTrue();

      assertThatThrownBy(() -> run.stageDirectory(MODULE, bundle))
          .isInstanceOf(UnsafeSourceException.class)
          .hasMessageContaining("special file control.fifo (not a regular file, directory or symlink)");
      assertNothingStagedLeftBehind();
    }
  }

  @Nested
  class Streams {
    @Test
    void aStagedStreamIsTheFileItselfNamedAsGiven() throws IOException {
      Staged stdin = run.stageStream("bundle.cue", input("bundle: {}\n"), 1024);

      try (Lease<Path> a = stdin.acquire("cluster-a"); Lease<Path> b = stdin.acquire("cluster-b")) {
        assertThat(a.get().getFileName()).hasToString("bundle.cue");
        assertThat(Files.readString(b.get())).isEqualTo("bundle: {}\n");
      }
      assertThat(stdin.source()).hasToString("stream:bundle.cue");
      assertThat(stdin.origin()).isEmpty();
    }

    @Test
    void aStagedStreamIsDigestedAsItsDirectoryStandsAndVerifies() throws IOException {
      Staged stdin = run.stageStream("bundle.cue", input("bundle: {}\n"), 1024);

      assertThat(stdin.digest()).matches("sha256:[0-9a-f]{64}")
          .isEqualTo(ContentTree.digest(stdin.path().getParent()));
      stdin.verify();
    }

    @Test
    void aStreamOverItsLimitFailsNamingTheLimitAndLeavesNothing() throws IOException {
      assertThatThrownBy(() -> run.stageStream("bundle.cue", input("x".repeat(2000)), 1000))
          .isInstanceOf(StagingLimitExceededException.class)
          .hasMessageContaining("exceeds the limit of 1000 bytes")
          .hasMessageContaining("stream:bundle.cue");
      assertNothingStagedLeftBehind();
      assertThat(run.stageStream("ok.cue", input("x".repeat(1000)), 1000).path()).hasSize(1000);
    }

    @Test
    void aLimitOfZeroTakesAnEmptyStreamAndANegativeOneIsRefused() throws IOException {
      assertThat(Files.size(run.stageStream("empty.cue", input(""), 0).path())).isZero();
      assertThatThrownBy(() -> run.stageStream("one.cue", input("x"), 0))
          .isInstanceOf(StagingLimitExceededException.class).hasMessageContaining("limit of 0 bytes");
      assertThatThrownBy(() -> run.stageStream("neg.cue", input(""), -1))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBytes must be >= 0, got -1");
    }

    @Test
    void anUnboundedLimitStagesTheWholeStream() throws IOException {
      String big = "y".repeat(200_000);
      Staged staged = run.stageStream("big.cue", input(big), Long.MAX_VALUE);
      assertThat(Files.readString(staged.path())).isEqualTo(big);
    }

    @Test
    void refusesNamesThatAreNotPlainFileNames() {
      for (String bad : new String[] {"", "../x", "a/b", ".", ".."}) {
        assertThatThrownBy(() -> run.stageStream(bad, input("x"), 10))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("plain file name");
      }
    }
  }

  @Nested
  class Leases {
    @Test
    void contentDeletedBehindALeaseIsReportedWithEverythingNeededToFindOut() throws IOException {
      Staged module = run.stageDirectory(MODULE, bundle);
      try (Lease<Path> lease = module.acquire("cluster-b")) {
        ContentTree.delete(module.path(), area.root());

        assertThatThrownBy(lease::get)
            .isInstanceOfSatisfying(StagedContentMissingException.class,
                e -> assertThat(e.holder()).isEqualTo("cluster-b"))
            .hasMessageContaining("staged content for cluster-b is missing")
            .hasMessageContaining("source file://./modules/redis")
            .hasMessageContaining("origin " + bundle)
            .hasMessageContaining("staged at " + module.path())
            .hasMessageContaining("leased to cluster-b");
      }
    }

    @Test
    void verifyCatchesContentChangedAfterStaging() throws IOException {
      Staged module = run.stageDirectory(MODULE, bundle);
      module.verify();
      Files.writeString(module.path().resolve("module.cue"), "module: \"evil\"\n");

      assertThatThrownBy(module::verify).isInstanceOf(StagedContentChangedException.class)
          .hasMessageContaining("expected " + module.digest());
    }

    @Test
    void noLeaseAfterReleaseAndClosingTwiceIsClosingOnce() {
      Staged module = run.stageDirectory(MODULE, bundle);
      Lease<Path> lease = module.acquire("cluster-a");
      lease.close();
      lease.close();
      assertThatThrownBy(lease::get).isInstanceOf(IllegalStateException.class);

      run.close();

      assertThat(module.state()).isEqualTo(ResourceState.RELEASED);
      assertThat(module.path()).doesNotExist();
      assertThatThrownBy(() -> module.acquire("cluster-b")).isInstanceOf(ResourceReleasedException.class)
          .hasMessageContaining("file://./modules/redis").hasMessageContaining("was released at");
      assertThatThrownBy(() -> run.stageDirectory(MODULE, bundle)).hasMessageContaining("is closed");
    }

    @Test
    void closingAScopeWithALeaseOpenNamesTheHolderAndDeletesWhenItCloses() throws IOException {
      Staged module = run.stageDirectory(MODULE, bundle);
      Lease<Path> straggler = module.acquire("cluster-c");

      run.close();

      assertThat(run.lingering()).containsExactly("cluster-c (file://./modules/redis)");
      assertThat(straggler.get()).exists();
      straggler.close();
      assertThat(module.path()).doesNotExist();
      assertThat(run.directory()).doesNotExist();
      assertThat(module.history()).last().asString().endsWith("deleted");
    }

    @Test
    void twoScopesStagingTheSameSourceGetTheirOwnCopies() throws Exception {
      StagingScope other = area.newScope("another run");
      Staged[] staged = new Staged[2];
      dev.statewright.testing.Workers.run(2, i -> staged[i] = (i == 0 ? run : other).stageDirectory(MODULE, bundle));

      assertThat(staged[0].path()).isNotEqualTo(staged[1].path());
      assertThat(staged[0].digest()).isEqualTo(staged[1].digest());
      other.close();
      assertThat(staged[0].path()).exists();
    }
  }

  @Test
  void everythingIsOwnerOnly() throws IOException {
    Staged module = run.stageDirectory(MODULE, bundle);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(area.root()))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(run.directory()))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(module.path()))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(
        Files.getPosixFilePermissions(module.path().resolve("module.cue")))).isEqualTo("rw-------");
  }

  @Test
  void aSymlinkedRootIsRefused() throws IOException {
    Path link = Files.createSymbolicLink(tmp.resolve("link"), tmp.resolve("staging"));
    assertThatThrownBy(() -> StagingArea.open(link)).hasMessageContaining("is a symlink");
  }

  private static ByteArrayInputStream input(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }
}
