package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.lease.ResourceState;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RolloutTest {
  private static final List<String> TARGETS = List.of("cluster-a", "cluster-b", "cluster-c", "cluster-d");

  @TempDir
  Path tmp;
  private StagingArea area;
  private StagingScope run;
  private Staged module;

  @BeforeEach
  void stage() throws IOException {
    Path bundle = Bundles.bundleWithRedisModule(tmp.resolve("bundle"));
    area = StagingArea.open(tmp.resolve("staging"));
    run = area.newScope("rollout");
    module = run.stageDirectory(URI.create("file://./modules/redis"), bundle);
  }

  @AfterEach
  void close() {
    area.close();
  }

  @Test
  void sequentialStopsAtTheFirstFailureAndSkipsTheRest() {
    Rollout.Report<String> report = Rollout.sequential(List.of(module), TARGETS, (target, paths) -> {
      assertThat(paths.get(0).resolve("module.cue")).exists();
      if (target.equals("cluster-b")) {
        throw new IOException("cluster-b API server unreachable");
      }
    });

    assertThat(report.results()).extracting(Rollout.TargetResult::outcome).containsExactly(
        Rollout.Outcome.SUCCEEDED, Rollout.Outcome.FAILED, Rollout.Outcome.SKIPPED, Rollout.Outcome.SKIPPED);
    assertThat(report.failures()).singleElement().satisfies(f ->
        assertThat(f.error()).hasMessage("cluster-b API server unreachable"));
    assertThat(report.succeeded()).isFalse();
    assertThat(module.state()).as("every lease closed").isEqualTo(ResourceState.STAGED);
  }

  @Test
  void parallelRunsUpToTheBoundAndEveryTargetHoldsItsOwnLease() {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    Rollout.Report<String> report = Rollout.parallel(List.of(module), TARGETS, 2, Scheduler.system(),
        (target, paths) -> {
          most.accumulateAndGet(running.incrementAndGet(), Math::max);
          try {
            assertThat(module.holders()).contains(target);
            assertThat(Files.readString(paths.get(0).resolve("templates/service.yaml"))).contains("Service");
          } finally {
            running.decrementAndGet();
          }
        });

    assertThat(report.succeeded()).isTrue();
    assertThat(most.get()).isBetween(1, 2);
    assertThat(module.state()).isEqualTo(ResourceState.STAGED);
  }

  @Test
  void aParallelFailureLetsRunningTargetsFinishAndStartsNoNewOnes() throws Exception {
    CountDownLatch bStarted = new CountDownLatch(1);
    Rollout.Report<String> report = Rollout.parallel(List.of(module), TARGETS, 2, Scheduler.system(),
        (target, paths) -> {
          if (target.equals("cluster-a")) {
            assertThat(bStarted.await(10, TimeUnit.SECONDS)).isTrue(); // a still runs when b fails
            return;
          }
          bStarted.countDown();
          throw new IllegalStateException(target + " rejected the bundle");
        });

    // c may start in the instant between b throwing and b's failure being recorded (a's slot
    // frees first); d needs a second free slot, which only comes after the failure is recorded.
    List<Rollout.Outcome> outcomes = report.results().stream().map(Rollout.TargetResult::outcome).toList();
    assertThat(outcomes.subList(0, 2)).containsExactly(Rollout.Outcome.SUCCEEDED, Rollout.Outcome.FAILED);
    assertThat(outcomes.get(2)).isIn(Rollout.Outcome.FAILED, Rollout.Outcome.SKIPPED);
    assertThat(outcomes.get(3)).isEqualTo(Rollout.Outcome.SKIPPED);
    assertThat(module.state()).isEqualTo(ResourceState.STAGED);
  }

  @Test
  void contentMissingForATargetIsThatTargetsFailure() throws IOException {
    ContentTree.delete(module.path(), area.root());
    Rollout.Report<String> report = Rollout.sequential(List.of(module), TARGETS, (t, p) -> { });

    assertThat(report.failures()).singleElement().satisfies(f ->
        assertThat(f.error()).isInstanceOf(StagedContentMissingException.class)
            .hasMessageContaining("for cluster-a is missing"));
  }
}
