package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.testing.Seeds;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link SourceProgress} on real threads: sources advancing (out of order, going back) while
 * readers wait for random targets and withdraw some waits. No wait completes before its target is
 * reached, every wait for a reached target completes, and progress never goes back.
 */
class SourceProgressStressTest {
  private static final int ADVANCERS = 2;
  private static final int READERS = 2;
  private static final int WAITS_PER_READER = 20_000;
  private static final long TOP = 50_000;

  @Test
  void noWaitIsAnsweredEarlyOrLost() throws Exception {
    SplittableRandom random = Seeds.random("SourceProgressStressTest"); // prints its seed
    SourceProgress progress = new SourceProgress();
    ConcurrentLinkedQueue<Throwable> problems = new ConcurrentLinkedQueue<>();
    List<CompletableFuture<Void>> kept = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int a = 0; a < ADVANCERS; a++) {
      SplittableRandom own = random.split();
      threads.add(new Thread(() -> advance(progress, own, go, problems), "advancer-" + a));
    }
    List<List<CompletableFuture<Void>>> perReader = new ArrayList<>();
    for (int r = 0; r < READERS; r++) {
      SplittableRandom own = random.split();
      List<CompletableFuture<Void>> mine = new ArrayList<>();
      perReader.add(mine);
      threads.add(new Thread(() -> await(progress, own, go, mine, problems), "reader-" + r));
    }
    threads.forEach(Thread::start);
    go.countDown();
    for (Thread thread : threads) {
      thread.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(thread.isAlive()).as("%s finished", thread.getName()).isFalse();
    }
    progress.advance(TOP);
    perReader.forEach(kept::addAll);

    assertThat(problems).isEmpty();
    assertThat(kept).as("every wait kept is answered once the top is reached")
        .allMatch(CompletableFuture::isDone);
    assertThat(progress.reached()).isEqualTo(TOP);
  }

  private static void advance(SourceProgress progress, SplittableRandom random, CountDownLatch go,
      ConcurrentLinkedQueue<Throwable> problems) {
    try {
      go.await();
      long before = SourceProgress.NONE;
      for (int i = 0; i < 20_000; i++) {
        progress.advance(random.nextLong(TOP)); // out of order: lower reports are ignored
        long now = progress.reached();
        if (now < before) {
          problems.add(new AssertionError("progress went back from " + before + " to " + now));
        }
        before = now;
      }
    } catch (Throwable t) {
      problems.add(t);
    }
  }

  private static void await(SourceProgress progress, SplittableRandom random, CountDownLatch go,
      List<CompletableFuture<Void>> kept, ConcurrentLinkedQueue<Throwable> problems) {
    try {
      go.await();
      for (int i = 0; i < WAITS_PER_READER; i++) {
        long target = random.nextLong(TOP + 1);
        CompletableFuture<Void> wait = progress.awaitAtLeast(target);
        wait.thenRun(() -> {
          if (progress.reached() < target) {
            problems.add(new AssertionError("a wait for " + target + " was answered at "
                + progress.reached()));
          }
        });
        if (random.nextInt(4) == 0) {
          wait.cancel(false); // a timed-out reader withdraws
        } else {
          kept.add(wait);
        }
      }
    } catch (Throwable t) {
      problems.add(t);
    }
  }
}
