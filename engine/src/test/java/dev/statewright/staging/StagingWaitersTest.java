package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stagers that wait: for a source file's open (which the area's {@link Scheduler} runs), or for
 * another thread's stage of the same directory. The scheduler given to the builder hands each
 * open to the test, so the test decides when, and whether, it happens.
 */
class StagingWaitersTest {
  private static final URI MODULE = URI.create("file://./modules/redis");

  @TempDir
  Path tmp;
  private Path bundle;
  private final BlockingQueue<Runnable> opens = new LinkedBlockingQueue<>();
  private StagingArea area;
  private StagingScope run;

  @BeforeEach
  void open() throws IOException {
    bundle = Bundles.bundleWithRedisModule(tmp.resolve("project"));
    Scheduler handsOpensToTheTest = new Scheduler() {
      @Override
      public long nanoTime() {
        return System.nanoTime();
      }

      @Override
      public void execute(Runnable task) {
        opens.add(task);
      }

      @Override
      public Cancellable schedule(Runnable task, Duration delay) {
        throw new UnsupportedOperationException("no timers with a zero close grace");
      }
    };
    area = StagingArea.builder(tmp.resolve("staging")).scheduler(handsOpensToTheTest)
        .closeGrace(Duration.ZERO).sourceOpenTimeout(Duration.ofMinutes(1)).open();
    run = area.newScope("waiters");
  }

  @AfterEach
  void close() {
    area.close();
  }

  private Runnable nextOpen() throws InterruptedException {
    Runnable open = opens.poll(1, TimeUnit.MINUTES);
    assertThat(open).as("the stager asked the scheduler to open a file").isNotNull();
    return open;
  }

  @Test
  void aStageWaitingForTheSameDirectoryGetsThatStagesOwnFailure() throws Exception {
    CompletableFuture<Throwable> first = new CompletableFuture<>();
    Thread stager = new Thread(() -> first.complete(failureOf(() -> run.stageDirectory(MODULE, bundle))),
        "first");
    stager.start();
    Runnable open = nextOpen(); // the first stage holds the directory's slot now
    CompletableFuture<Throwable> second = new CompletableFuture<>();
    Thread waiter = new Thread(() -> second.complete(failureOf(() -> run.stageDirectory(MODULE, bundle))),
        "second");
    waiter.start();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (waiter.getState() != Thread.State.WAITING && waiter.isAlive()) { // joining the first
      assertThat(System.nanoTime()).as("the second stager waits for the first").isLessThan(deadline);
      Thread.onSpinWait();
    }

    Files.delete(bundle.getParent().resolve("modules/redis/module.cue")); // the first file opened
    open.run();
    stager.join();
    waiter.join();

    assertThat(first.get()).isInstanceOf(StagingException.class)
        .hasMessageContaining("module.cue").hasMessageContaining("NoSuchFileException");
    assertThat(second.get()).as("the first stage's own exception, not a CompletionException")
        .isSameAs(first.get());
    assertThat(opens).as("the second stager opened nothing itself").isEmpty();
  }

  @Test
  void aStagerInterruptedWhileAFileOpensFailsAndKeepsItsInterrupt() throws Exception {
    AtomicReference<Boolean> interruptKept = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread stager = new Thread(() -> {
      failure.set(failureOf(() -> run.stageDirectory(MODULE, bundle)));
      interruptKept.set(Thread.currentThread().isInterrupted());
    }, "stager");
    stager.start();
    Runnable open = nextOpen();
    stager.interrupt();
    stager.join();
    open.run(); // opens late; nobody reads what it opened

    assertThat(failure.get()).isInstanceOf(StagingException.class)
        .hasMessageContaining("interrupted while opening module.cue");
    assertThat(interruptKept.get()).as("the stager's interrupt status is kept").isTrue();
    assertThat(Bundles.listing(run.directory())).as("no partial tree left").containsExactly("owner");
  }

  private static Throwable failureOf(Runnable stage) {
    try {
      stage.run();
      return null;
    } catch (Throwable t) {
      return t;
    }
  }
}
