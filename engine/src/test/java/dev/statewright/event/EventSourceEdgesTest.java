package dev.statewright.event;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.testing.ManualScheduler;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sources' paths that a periodic resync used to hide: the watcher on its own, re-registering
 * a folder that came back, closing, what is logged, and the small API corners.
 */
class EventSourceEdgesTest {
  @TempDir
  Path root;
  private Path dir;
  private final TimerByHand scheduler = new TimerByHand();
  private final RecordingSink<String> sink = new RecordingSink<>();
  private DirectoryEventSource<String> source;

  /** Runs tasks on threads it joins; timers fire only when the test says so. */
  static final class TimerByHand implements Scheduler {
    final List<Thread> threads = Collections.synchronizedList(new ArrayList<>());
    final List<Runnable> timers = Collections.synchronizedList(new ArrayList<>());
    final List<Boolean> cancelled = Collections.synchronizedList(new ArrayList<>());

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public Instant now() {
      return Instant.EPOCH;
    }

    @Override
    public RandomGenerator random() {
      return RandomGenerator.getDefault();
    }

    @Override
    public void execute(Runnable task) {
      Thread t = new Thread(task, "by-hand-" + threads.size());
      threads.add(t);
      t.start();
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      int index = timers.size();
      timers.add(task);
      cancelled.add(false);
      return () -> cancelled.set(index, true);
    }

    /** Fires the newest timer, as its delay running out would. */
    void fire() {
      timers.get(timers.size() - 1).run();
    }

    void joinAll() throws InterruptedException {
      for (Thread t : List.copyOf(threads)) {
        t.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(t.isAlive()).as("%s ended", t.getName()).isFalse();
      }
    }
  }

  @BeforeEach
  void folder() throws IOException {
    dir = Files.createDirectory(root.resolve("repos"));
    source = DirectoryEventSource.of(dir, ".properties",
        (file, bytes) -> new String(bytes, StandardCharsets.UTF_8).strip(),
        Duration.ofSeconds(1), scheduler);
  }

  @AfterEach
  void closeAll() throws InterruptedException {
    source.close();
    scheduler.joinAll();
  }

  private void write(String name, String content) throws IOException {
    Path staged = Files.writeString(root.resolve(name + ".next"), content);
    Files.move(staged, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void theWatcherAloneDeliversEveryChange() throws Exception {
    source.start(sink);
    sink.await("resync");

    write("a.properties", "one");
    assertThat(sink.await("upsert")).isEqualTo("upsert a v1 one");
    write("a.properties", "two");
    assertThat(sink.await("upsert")).isEqualTo("upsert a v2 two");
  }

  @Test
  void closingStopsTheWatcherThreadAndTheTimer() throws Exception {
    source.start(sink);
    sink.await("resync");

    source.close();

    scheduler.joinAll();
    assertThat(scheduler.cancelled).containsExactly(true);
  }

  @Test
  void aFolderThatCameBackIsWatchedAgainAndTheOldWatcherEnds() throws Exception {
    write("a.properties", "one");
    source.start(sink);
    sink.await("resync");
    Files.delete(dir.resolve("a.properties"));
    sink.await("delete a");
    Files.delete(dir);
    scheduler.fire(); // the folder is missing: keys are kept
    scheduler.fire();
    Files.createDirectory(dir);
    scheduler.fire(); // it came back: a new watcher

    write("b.properties", "two");

    assertThat(sink.await("upsert b")).startsWith("upsert b v");
    assertThat(scheduler.threads).hasSize(2);
    scheduler.threads.get(0).join(TimeUnit.SECONDS.toMillis(10));
    assertThat(scheduler.threads.get(0).isAlive()).as("the old watcher ended").isFalse();
  }

  @Test
  void anUnchangedDependencyFileIsNoChange() throws Exception {
    write("a.token", "secret");
    source.start(sink);
    assertThat(sink.await("")).as("first sight is no change").startsWith("resync");
    scheduler.fire();
    assertThat(sink.await("")).startsWith("resync");
    scheduler.fire();
    assertThat(sink.await("")).startsWith("resync");

    assertThat(sink.events).noneMatch(e -> e.startsWith("dependency"));
    assertThat(scheduler.threads).as("an unchanged folder keeps its watcher").hasSize(1);
  }

  @Test
  void toStringNamesTheFolderAndSuffix() {
    assertThat(source).hasToString("DirectoryEventSource[" + dir + ", *.properties]");
  }

  @Test
  void aManualSourceClosedBeforeStartDeliversNothingItHeld() {
    ManualEventSource<String, String> manual = new ManualEventSource<>();
    manual.upsert("a", "s", 1);
    manual.close();
    manual.start(sink);

    assertThat(sink.events).isEmpty();
    assertThat(manual).hasToString("ManualEventSource");
  }

  @Test
  void aManualSourceDeliversAResyncAsOfAVersion() {
    ManualEventSource<String, String> manual = new ManualEventSource<>();
    manual.start(sink);
    manual.resync(Map.of("a", Versioned.of("s", 2)), 7);

    assertThat(sink.events).containsExactly("resync {a=s@v2}");
  }

  @Test
  void aPollingSourceWhoseListingFailsPollsAgainUntilClosed() {
    ManualScheduler manualScheduler = new ManualScheduler();
    TimerByHand timers = new TimerByHand();
    PollingEventSource<String, String> polling = PollingEventSource.of("registry", () -> {
      throw new IOException("registry down");
    }, Duration.ofSeconds(5), new Scheduler() {
      @Override
      public long nanoTime() {
        return manualScheduler.nanoTime();
      }

      @Override
      public Instant now() {
        return manualScheduler.now();
      }

      @Override
      public RandomGenerator random() {
        return manualScheduler.random();
      }

      @Override
      public void execute(Runnable task) {
        task.run();
      }

      @Override
      public Cancellable schedule(Runnable task, Duration delay) {
        return timers.schedule(task, delay);
      }
    });
    polling.start(sink);
    polling.close();

    assertThat(timers.cancelled).containsExactly(true);
    assertThat(polling).hasToString("PollingEventSource[registry every PT5S]");
    assertThat(Versioned.of("secret", 3)).hasToString("Versioned[v3]");
  }
}
