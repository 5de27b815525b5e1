package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import dev.statewright.time.Scheduler;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 10 of the hostile-filesystem issue: a stage racing {@code close()} either stages (and its
 * content is deleted when the scope drains) or is refused with "is closed", never fails half-way
 * with a missing directory; the scope drains, and its callback runs, exactly once.
 */
class StagingScopeCloseRaceTest {
  private static final int ATTEMPTS = 300;
  private static final int STAGERS = 3;

  @TempDir
  Path tmp;

  @Test
  void stagesRacingCloseAreStagedOrRefusedAndTheScopeDrainsOnce() throws Exception {
    SplittableRandom random = Seeds.random("scope close race");
    Path root = Files.createDirectory(tmp.resolve("staging"));
    Queue<String> violations = new ConcurrentLinkedQueue<>();
    ContentTree.Opener opener = new ContentTree.Opener(Scheduler.system(), Duration.ofSeconds(5));
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      Path dir = root.resolve("scope-" + attempt);
      AtomicInteger drains = new AtomicInteger();
      StagingScope scope = new StagingScope("race " + attempt, dir, root, Scheduler.system(),
          Duration.ZERO, opener, ScopeLock.claim(() -> dir, "test", d -> { }),
          s -> drains.incrementAndGet());
      int closer = random.nextInt(STAGERS + 1);
      int spin = random.nextInt(20_000);
      Workers.run(STAGERS + 1, worker -> {
        if (worker == closer) {
          for (int i = 0; i < spin; i++) {
            Thread.onSpinWait();
          }
          scope.close();
          return;
        }
        try {
          scope.stageStream("f", new ByteArrayInputStream(new byte[] {1, 2, 3}), 10);
        } catch (IllegalStateException refused) {
          if (!refused.getMessage().endsWith("is closed")) {
            violations.add(refused.toString());
          }
        } catch (RuntimeException e) {
          violations.add("a stage racing close failed: " + e);
        }
      });
      assertThat(drains.get()).as("drains of attempt " + attempt).isEqualTo(1);
      assertThat(dir).as("scope directory of attempt " + attempt).doesNotExist();
    }
    assertThat(violations).isEmpty();
  }
}
