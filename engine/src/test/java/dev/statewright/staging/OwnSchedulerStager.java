package dev.statewright.staging;

import dev.statewright.time.Scheduler;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The child JVM of {@code StagingHardeningTest}: stages through an area given its own
 * {@link Scheduler}, then prints the names of its live threads, so the parent can see
 * {@code Scheduler.system()}'s daemon threads were never started.
 */
public final class OwnSchedulerStager {
  private OwnSchedulerStager() { }

  /** {@code args}: the staging root and the bundle file. */
  public static void main(String[] args) throws Exception {
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "own-scheduler"));
    Scheduler own = new Scheduler() {
      @Override
      public long nanoTime() {
        return System.nanoTime();
      }

      @Override
      public void execute(Runnable task) {
        executor.execute(task);
      }

      @Override
      public Cancellable schedule(Runnable task, Duration delay) {
        throw new UnsupportedOperationException("no timers in this test");
      }
    };
    try (StagingArea area = StagingArea.builder(Path.of(args[0])).scheduler(own)
        .closeGrace(Duration.ZERO).open();
         StagingScope scope = area.newScope("own scheduler")) {
      scope.stageDirectory(URI.create("file://./modules/redis"), Path.of(args[1]));
      scope.stageStream("s", new ByteArrayInputStream(new byte[] {1}), 1);
      System.out.println("threads: " + Thread.getAllStackTraces().keySet().stream()
          .map(Thread::getName).sorted().collect(Collectors.joining(", ")));
    } finally {
      executor.shutdown();
      executor.awaitTermination(1, TimeUnit.MINUTES);
    }
  }
}
