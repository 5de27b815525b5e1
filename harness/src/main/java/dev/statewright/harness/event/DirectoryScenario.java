package dev.statewright.harness.event;

import dev.statewright.event.DirectoryEventSource.SpecParser;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The directory source's part of {@link EventSourceProperty}: spec files in a fresh folder, some
 * of which the parser rejects by throwing (an exception, an Error) or by returning null, at
 * start and at each rescan; then every file is rewritten good and the sink must hold exactly
 * what the files say (E3). A parser's throw must come out of neither {@code start()} nor a
 * rescan (E2). Its close() promises no more than to stop: a scan under way may still deliver, so
 * E1 is not checked here. The rescans run when the run fires their timers; the watch loop runs
 * on a real thread.
 */
final class DirectoryScenario {
  private static final String SUFFIX = ".spec";
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final SourcesUnderTest sources;
  private final SplittableRandom random;
  private final List<String> violations;

  DirectoryScenario(SourcesUnderTest sources, SplittableRandom random, List<String> violations) {
    this.sources = sources;
    this.random = random;
    this.violations = violations;
  }

  void run() throws IOException, InterruptedException {
    Path folder = Files.createTempDirectory("statewright-event-property-");
    StepTimers scheduler = new StepTimers(violations);
    EventSource<String, String> source = sources.directory(folder, SUFFIX,
        DirectoryScenario::parse, Duration.ofSeconds(1), scheduler);
    try {
      for (String key : EventSourceProperty.KEYS) {
        if (random.nextInt(3) > 0) {
          write(folder, key);
        }
      }
      WatchingSink sink = new WatchingSink(violations);
      EventSourceProperty.start(source, sink, violations);
      for (int round = 1 + random.nextInt(4); round > 0; round--) {
        String key = EventSourceProperty.KEYS.get(random.nextInt(EventSourceProperty.KEYS.size()));
        if (random.nextInt(4) == 0) {
          Files.deleteIfExists(folder.resolve(key + SUFFIX));
        } else {
          write(folder, key);
        }
        scheduler.fire();
      }
      Map<String, String> expected = new HashMap<>();
      for (String key : EventSourceProperty.KEYS) {
        Files.writeString(folder.resolve(key + SUFFIX), "ok " + key + "-final");
        expected.put(key, key + "-final");
      }
      if (scheduler.fire() && !specs(sink).equals(expected)) {
        violations.add("E3: after a quiet rescan the sink holds " + specs(sink) + " but the files say "
            + expected);
      }
    } finally {
      EventSourceProperty.close(source, () -> { }, violations);
      scheduler.joinThreads();
      deleteTree(folder);
    }
  }

  private void write(Path folder, String key) throws IOException {
    String content = switch (random.nextInt(8)) {
      case 0 -> "throw exception";
      case 1 -> "throw so";
      case 2 -> "throw ae";
      case 3 -> "throw oom";
      case 4 -> "null";
      default -> "ok " + key + random.nextInt(100);
    };
    Files.writeString(folder.resolve(key + SUFFIX), content);
  }

  /** The parser: "ok spec" is a spec; anything else is rejected, the hostile way it names. */
  private static String parse(Path file, byte[] bytes) {
    String content = new String(bytes, StandardCharsets.UTF_8);
    return switch (content) {
      case "throw exception" -> throw new IllegalArgumentException("bad spec (hostile)");
      case "throw so" -> throw new StackOverflowError("parser recursed (hostile)");
      case "throw ae" -> throw new AssertionError("parser assertion (hostile)");
      case "throw oom" -> throw new OutOfMemoryError("parser out of memory (hostile, made by new)");
      case "null" -> null;
      default -> content.startsWith("ok ") ? content.substring(3)
          : invalid(content); // a file caught half-written by the watcher
    };
  }

  private static String invalid(String content) {
    throw new IllegalArgumentException("not a spec: " + content.length() + " bytes");
  }

  private static Map<String, String> specs(WatchingSink sink) {
    Map<String, String> specs = new HashMap<>();
    sink.view().forEach((key, v) -> specs.put(key, v.value()));
    return specs;
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Timers that fire when the run says so, on its thread; tasks to execute run on threads of
   * their own. A throw from either is a violation (E2), never the scheduler's problem.
   */
  private static final class StepTimers implements Scheduler {
    /*
     * Concurrency: `timers` and `threads` are guarded by this: the watch loop may schedule or
     * execute from its thread while the run fires timers on its own. Timers run outside the lock.
     */
    private final List<String> violations;
    private final List<Runnable> timers = new ArrayList<>(); // guarded by this
    private final List<Thread> threads = new ArrayList<>(); // guarded by this

    StepTimers(List<String> violations) {
      this.violations = violations;
    }

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public synchronized void execute(Runnable task) {
      Thread thread = new Thread(() -> guarded(task), "directory-source-watch");
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }

    @Override
    public synchronized Cancellable schedule(Runnable task, Duration delay) {
      Runnable[] timer = {() -> guarded(task)};
      timers.add(timer[0]);
      return () -> {
        synchronized (this) {
          timers.remove(timer[0]);
        }
      };
    }

    /** Fires every timer set so far; false, with a violation, if there was none (E3). */
    boolean fire() {
      List<Runnable> due;
      synchronized (this) {
        due = List.copyOf(timers);
        timers.clear();
      }
      if (due.isEmpty()) {
        violations.add("E3: no rescan is scheduled any more: the source stopped");
      }
      due.forEach(Runnable::run);
      return !due.isEmpty();
    }

    private void guarded(Runnable task) {
      try {
        task.run();
      } catch (Throwable t) {
        violations.add("E2: " + t + " reached the scheduler's thread");
      }
    }

    void joinThreads() throws InterruptedException {
      List<Thread> started;
      synchronized (this) {
        started = List.copyOf(threads);
      }
      for (Thread thread : started) {
        thread.join(WAIT.toMillis());
        if (thread.isAlive()) {
          thread.interrupt();
          thread.join(WAIT.toMillis());
        }
      }
    }
  }
}
