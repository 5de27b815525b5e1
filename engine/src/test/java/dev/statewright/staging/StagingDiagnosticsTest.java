package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.lease.Lease;
import dev.statewright.time.Scheduler;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What staging tells a human: names, histories, messages, logs and accessors. */
class StagingDiagnosticsTest {
  private static final URI MODULE = URI.create("file://./modules/redis");

  @TempDir
  Path tmp;
  private Path bundle;
  private StagingArea area;
  private StagingScope run;
  @BeforeEach
  void open() throws IOException {
    bundle = Bundles.bundleWithRedisModule(tmp.resolve("project"));
    area = StagingArea.builder(tmp.resolve("staging")).closeGrace(Duration.ofMillis(20)).open();
    run = area.newScope("a run with a rather long name that goes on and on");
  }

  @AfterEach
  void close() {
    area.close();
  }

  @Test
  void aScopeIsNamedAfterItsOwnerAndItsNameAndItsOwnerFileSaysWho() throws IOException {
    long pid = ProcessHandle.current().pid();
    String dir = run.directory().getFileName().toString();
    assertThat(dir).startsWith("scope-" + pid + "-").endsWith("-1-a-run-with-a-rather-long-name-that-goes-");
    assertThat(Files.readString(run.directory().resolve("owner")))
        .contains("pid=" + pid).contains("scope=a run with a rather long name");
    assertThat(run.name()).isEqualTo("a run with a rather long name that goes on and on");
    assertThat(run).hasToString("StagingScope[a run with a rather long name that goes on and on]");
    assertThat(ScopeLock.isHeld(run.directory())).isTrue();
    assertThat(area.toString()).contains("1 open scopes");
    run.close();
    assertThat(run.toString()).endsWith(", closed]");
    assertThat(ScopeLock.isHeld(run.directory())).as("the drain dropped the lock").isFalse();
  }

  @Test
  void theHistoryTellsWhatHappened() {
    Staged module = run.stageDirectory(MODULE, bundle);
    Lease<Path> lease = module.acquire("cluster-a");
    assertThat(lease.holder()).isEqualTo("cluster-a");
    assertThat(lease.toString()).contains("by cluster-a").doesNotContain("closed");
    lease.close();
    assertThat(lease.toString()).endsWith(", closed]");
    run.close();
    assertThat(module.history()).anySatisfy(h -> assertThat(h).contains("staged at " + module.path()))
        .anySatisfy(h -> assertThat(h).endsWith("lease of cluster-a closed"))
        .anySatisfy(h -> assertThat(h).endsWith("retired by its scope"))
        .anySatisfy(h -> assertThat(h).endsWith("deleted"));
    assertThat(module.toString()).contains(module.path().toString()).contains("RELEASED");
  }

  @Test
  void verifyOfVanishedContentSaysItIsMissingAndALongHistoryIsShortened() throws IOException {
    Staged module = run.stageDirectory(MODULE, bundle);
    for (int i = 0; i < 8; i++) {
      module.acquire("t" + i).close();
    }
    ContentTree.delete(module.path(), area.root());
    // staged, 8 leases taken and closed, found missing: 18 entries, the last 5 shown
    assertThatThrownBy(module::verify).isInstanceOf(StagedContentMissingException.class)
        .hasMessageContaining("history: (13 earlier) -> ")
        .hasMessageContaining("found missing by verify");
    assertThat(module.history()).last().asString().endsWith("found missing by verify");
  }

  @Test
  void aHistoryOfFiveEntriesIsShownWhole() {
    Staged module = run.stageDirectory(MODULE, bundle);
    module.acquire("t0").close();
    try (Lease<Path> last = module.acquire("t1")) {
      ContentTree.delete(module.path(), area.root());
      // staged, leased to t0, closed, leased to t1, found missing by t1
      assertThatThrownBy(last::get).isInstanceOf(StagedContentMissingException.class)
          .hasMessageContaining("history: " + module.history().get(0) + " -> ")
          .hasMessageNotContaining("earlier");
    }
  }

  @Test
  void exceptionsCarryWhatTheyName() {
    StagingLimitExceededException limit = (StagingLimitExceededException) org.assertj.core.api.Assertions
        .catchThrowable(() -> run.stageStream("big", new ByteArrayInputStream(new byte[10]), 5));
    assertThat(limit.limit()).isEqualTo(5);
    assertThat(limit.source()).contains(URI.create("stream:big"));
    assertThat(limit.origin()).isEmpty();
    assertThat(limit.stagingPath()).isEmpty();
    StagingException failed = (StagingException) org.assertj.core.api.Assertions.catchThrowable(
        () -> run.stageStream("x", new InputStream() {
          @Override
          public int read() throws IOException {
            throw new IOException("disk gone");
          }
        }, 10));
    assertThat(failed.stagingPath()).contains(run.directory().resolve("2-stream"));
    assertThat(limit).hasMessageContaining("no origin").hasMessageNotContaining("staged at");
    assertThat(failed).hasMessageContaining(", staged at " + run.directory().resolve("2-stream") + "]");

    UnsafeSourceException unsafe = (UnsafeSourceException) org.assertj.core.api.Assertions
        .catchThrowable(() -> run.stageDirectory(URI.create("file://../../etc"), bundle));
    assertThat(unsafe.origin()).contains(bundle);
    assertThat(unsafe.stagingPath()).isEmpty();
  }

  @Test
  void aStreamNameWithANulIsRefused() {
    assertThatThrownBy(() -> run.stageStream("\0x", InputStream.nullInputStream(), 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("plain file name");
    assertThatThrownBy(() -> run.stageStream("a\\b", InputStream.nullInputStream(), 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aFailedResolutionGivesItsClaimBackAndAFailedCopyLeavesNoPartial() {
    assertThatThrownBy(() -> run.stageDirectory(URI.create("file://./nope"), bundle))
        .isInstanceOf(SourceNotFoundException.class);
    InputStream failing = new InputStream() {
      @Override
      public int read() throws IOException {
        throw new IOException("disk gone");
      }
    };
    assertThatThrownBy(() -> run.stageStream("x", failing, 10)).isInstanceOf(StagingException.class);
    assertThat(run.directory().resolve("partial-1")).doesNotExist();
    run.close();
    assertThat(run.directory()).as("every claim given back").doesNotExist();
  }

  @Test
  void oneTargetAtATimeIsParallelismOne() {
    Staged module = run.stageDirectory(MODULE, bundle);
    Rollout.Report<String> report = Rollout.parallel(List.of(module), List.of("a", "b"), 1,
        Scheduler.system(), (t, p) -> { });
    assertThat(report.succeeded()).isTrue();
    assertThatThrownBy(() -> Rollout.parallel(List.of(module), List.of("a"), 0, Scheduler.system(),
        (t, p) -> { })).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aChainOfFortyLinksIsKeptAndOfFortyOneRefused() throws IOException {
    Path module = bundle.getParent().resolve("modules/redis");
    for (int i = 0; i < 40; i++) {
      Files.createSymbolicLink(module.resolve(String.format("l%02d", i)),
          Path.of(i == 39 ? "module.cue" : String.format("l%02d", i + 1)));
    }
    assertThat(Files.readString(run.stageDirectory(MODULE, bundle).path().resolve("l00")))
        .contains("redis");
    Files.createSymbolicLink(module.resolve("k"), Path.of("l00"));
    StagingScope second = area.newScope("second");
    assertThatThrownBy(() -> second.stageDirectory(MODULE, bundle))
        .isInstanceOf(UnsafeSourceException.class).hasMessageContaining("symlink k -> l00 follows more than 40");
  }
}
