package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** BuildRun's state word, one transition at a time, on the calling thread. */
class BuildRunTest {
  private final AtomicInteger abandonedRunning = new AtomicInteger();
  private final BuildRun<String> run = new BuildRun<>("spec", 1, 1, 0, abandonedRunning);

  @Test
  void abandonedBeforeItsLaunchItIsNeverCalledAndItsAbandonerGivesThePermitBack() {
    assertThat(run.abandon()).as("the abandoner returns the permit").isTrue();
    assertThat(run.beginLaunch()).isFalse();
    assertThat(run.enter()).isFalse();
    assertThat(run.abandon()).as("idempotent").isFalse();
    assertThat(abandonedRunning).hasValue(0);
  }

  @Test
  void abandonedDuringTheCallItsStageIsCancelledWhenTheCallReturnsAndCountedUntilItEnds() {
    assertThat(run.beginLaunch()).isTrue();
    assertThat(run.abandon()).isFalse();
    assertThat(abandonedRunning).hasValue(1);
    CompletableFuture<String> stage = new CompletableFuture<>();
    run.launched(stage);
    assertThat(stage).isCancelled();
    assertThat(run.hasEnded()).isFalse();
    assertThat(run.ended()).as("it had been abandoned").isTrue();
    assertThat(run.hasEnded()).isTrue();
    assertThat(abandonedRunning).hasValue(0);
  }

  @Test
  void aBuildThatEndsUnabandonedIsNotCountedAndAbandoningItAfterwardsChangesNothing() {
    run.beginLaunch();
    CompletableFuture<String> stage = new CompletableFuture<>();
    run.launched(stage);
    assertThat(run.ended()).isFalse();
    assertThat(run.abandon()).isFalse();
    assertThat(stage).isNotCancelled();
    assertThat(abandonedRunning).hasValue(0);
  }

  @Test
  void thePermitGoesBackExactlyOnce() {
    assertThat(run.returnPermit()).isTrue();
    assertThat(run.returnPermit()).isFalse();
    run.beginLaunch();
    run.abandon();
    assertThat(run.returnPermit()).isFalse();
  }

  @Test
  void whatWaitsForTheLaunchRunsWhenTheCallReturnsOrAtOnceOutsideIt() {
    List<String> ran = new ArrayList<>();
    run.afterLaunch(() -> ran.add("before the launch"));
    assertThat(ran).containsExactly("before the launch");
    run.beginLaunch();
    run.afterLaunch(() -> ran.add("during the call"));
    assertThat(ran).hasSize(1);
    run.launched(new CompletableFuture<>());
    assertThat(ran).containsExactly("before the launch", "during the call");
    run.afterLaunch(() -> ran.add("after it"));
    assertThat(ran).hasSize(3);
  }

  @Test
  void aWorkerInterruptedByAbandonmentIsClearedButKeepsAnInterruptOfItsOwn() {
    run.beginLaunch();
    run.launched(null);
    boolean wasInterrupted = Thread.currentThread().isInterrupted();
    assertThat(run.enter()).isTrue();
    run.abandon(); // interrupts this very thread: the worker
    assertThat(Thread.currentThread().isInterrupted()).isTrue();
    run.exit(wasInterrupted);
    assertThat(Thread.interrupted()).as("the abandonment's interrupt is cleared").isFalse();

    BuildRun<String> second = new BuildRun<>("spec", 2, 2, 0, abandonedRunning);
    second.beginLaunch();
    second.launched(null);
    Thread.currentThread().interrupt(); // the thread's own interrupt, before the factory
    assertThat(second.enter()).isTrue();
    second.abandon();
    second.exit(true);
    assertThat(Thread.interrupted()).as("its own interrupt is kept").isTrue();
  }

  @Test
  void aWorkerThatLeftBeforeAbandonmentIsNotInterrupted() {
    run.beginLaunch();
    run.launched(null);
    assertThat(run.enter()).isTrue();
    run.exit(false);
    run.abandon();
    assertThat(Thread.interrupted()).isFalse();
  }
}
