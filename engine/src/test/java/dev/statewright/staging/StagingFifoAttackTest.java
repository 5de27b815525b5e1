package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.testing.Seeds;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 3 of the hostile-filesystem issue: a regular file of the source swapped for a FIFO
 * between the check and the open. Opening a FIFO blocks until a writer comes; the stage must
 * instead fail with {@link UnsafeSourceException} within its bound (here 100 ms to open, a stage
 * given 10 s in all), or stage the real file.
 */
class StagingFifoAttackTest {
  private static final int ATTEMPTS = 200;
  private static final Duration OPEN_BOUND = Duration.ofMillis(100);
  private static final long STAGE_DEADLINE_SECONDS = 10;

  @TempDir
  Path tmp;

  @Test
  void aFifoSwappedInForAFileFailsTheStageWithinTheBoundInsteadOfHanging() throws Exception {
    SplittableRandom random = Seeds.random("fifo swap attack");
    Path bundle = Files.createDirectories(tmp.resolve("project"));
    Path module = Files.createDirectories(bundle.resolve("modules/m"));
    for (int i = 0; i < 20; i++) {
      Files.writeString(module.resolve("a" + i), "ours\n");
    }
    Path file = Files.writeString(module.resolve("f"), "ours\n");
    Path origin = Files.writeString(bundle.resolve("bundle.cue"), "bundle: {}\n");
    Path hold = Files.createDirectories(tmp.resolve("hold"));
    Path fifo = mkfifo(hold.resolve("fifo"));
    Path spare = hold.resolve("file");
    int staged = 0;
    int refused = 0;
    try (StagingArea area = StagingArea.builder(tmp.resolve("staging"))
            .sourceOpenTimeout(OPEN_BOUND).closeGrace(Duration.ZERO).open();
         Swapper attacker = new Swapper("swap fifo", random.nextLong(), false, toFifo -> {
           Files.move(file, toFifo ? spare : fifo, StandardCopyOption.ATOMIC_MOVE);
           Files.move(toFifo ? fifo : spare, file, StandardCopyOption.ATOMIC_MOVE);
         })) {
      try {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
          StagingScope scope = area.newScope("attempt " + attempt);
          CompletableFuture<Staged> stage = CompletableFuture.supplyAsync(
              () -> scope.stageDirectory(URI.create("file://./modules/m"), origin));
          try {
            Staged copy = stage.get(STAGE_DEADLINE_SECONDS, TimeUnit.SECONDS);
            Path f = copy.path().resolve("f"); // absent if listed mid-swap
            if (Files.exists(f)) {
              assertThat(Files.readString(f)).as("attempt " + attempt + " staged the file's own"
                  + " content, not what a FIFO gave").isEqualTo("ours\n");
            }
            staged++;
          } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(StagingException.class);
            refused++;
          } catch (TimeoutException hung) {
            Thread.getAllStackTraces().forEach((t, stack) -> System.out.println(t + "\n  "
                + java.util.Arrays.stream(stack).map(String::valueOf)
                    .collect(java.util.stream.Collectors.joining("\n  "))));
            throw new AssertionError("attempt " + attempt + ": the stage hung on a FIFO for "
                + STAGE_DEADLINE_SECONDS + " s (open bound " + OPEN_BOUND + ")");
          } finally {
            while (!stage.isDone()) {
              release(file, fifo); // wake a stager the old code left waiting on the FIFO
            }
            release(file, fifo); // and the bounded open's task, which waits on it alone
            scope.close();
          }
        }
      } finally {
        System.out.println("fifo swap attack: " + staged + " staged, " + refused + " refused, "
            + attacker.flips() + " flips");
      }
    }
  }

  /**
   * Opens the FIFO read-write, which never blocks on Linux, so every reader waiting in open()
   * returns; no O_CREAT, so a name swapped away meanwhile is not created.
   */
  private static void release(Path... candidates) {
    for (Path p : candidates) {
      try (FileChannel writer = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        assertThat(writer.isOpen()).isTrue();
      } catch (IOException gone) {
        // swapped away meanwhile
      }
    }
  }

  static Path mkfifo(Path path) throws IOException, InterruptedException {
    Process mkfifo = new ProcessBuilder("mkfifo", path.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0).isTrue();
    return path;
  }
}
