package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.lease.Lease;
import dev.statewright.lease.ResourceReleasedException;
import dev.statewright.lease.ResourceState;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many targets lease and read while the scope closes under them: content is deleted exactly once,
 * never while leased, and no lease is handed out after release.
 */
class StagingStressTest {
  private static final int TARGETS = 6;

  @TempDir
  Path tmp;

  @RepeatedTest(5)
  void targetsLeaseAndReadWhileTheScopeCloses() throws Exception {
    SplittableRandom random = Seeds.random("staging stress");
    Path bundle = Bundles.bundleWithRedisModule(tmp.resolve("bundle"));
    Queue<String> violations = new ConcurrentLinkedQueue<>();
    AtomicBoolean closing = new AtomicBoolean();
    AtomicInteger reads = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    int closeAfter = 20 + random.nextInt(200);
    try (StagingArea area = StagingArea.builder(tmp.resolve("staging"))
        .closeGrace(Duration.ofSeconds(10)).open()) {
      StagingScope run = area.newScope("stress");
      Staged module = run.stageDirectory(URI.create("file://./modules/redis"), bundle);
      Staged stdin = run.stageStream("bundle.cue",
          new ByteArrayInputStream("bundle: {}\n".getBytes(StandardCharsets.UTF_8)), 1024);
      long[] seeds = random.longs(TARGETS).toArray();

      Workers.run(TARGETS, worker -> {
        SplittableRandom mine = new SplittableRandom(seeds[worker]);
        for (int i = 0; i < 400; i++) {
          if (worker == 0 && i == closeAfter) {
            closing.set(true);
            run.close();
          }
          Staged item = mine.nextBoolean() ? module : stdin;
          String holder = "target-" + worker + "-" + i;
          boolean closeStarted = closing.get();
          try (Lease<Path> lease = item.acquire(holder)) {
            Path path = lease.get();
            Path file = item == module ? path.resolve("templates/service.yaml") : path;
            if (!Files.readString(file).startsWith(item == module ? "kind: Service" : "bundle")) {
              violations.add(holder + " read wrong content from " + file);
            }
            reads.incrementAndGet();
          } catch (ResourceReleasedException e) {
            refused.incrementAndGet();
            if (!closeStarted && !closing.get()) {
              violations.add(holder + " was refused before the scope closed: " + e.getMessage());
            }
          } catch (Exception e) {
            violations.add(holder + ": " + e);
          }
        }
      });

      assertThat(violations).isEmpty();
      for (Staged item : List.of(module, stdin)) {
        assertThat(item.state()).isEqualTo(ResourceState.RELEASED);
        assertThat(item.path()).doesNotExist();
        assertThat(item.history()).filteredOn(h -> h.endsWith(" deleted")).hasSize(1);
      }
      assertThat(Bundles.listing(area.root())).isEmpty();
      assertThat(reads.get()).isPositive();
      System.out.println("staging stress: " + reads + " reads, " + refused + " refused after close at "
          + closeAfter);
    }
  }
}
