package dev.statewright.harness.event;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The event sources' promises as a randomised scenario over any {@link SourcesUnderTest}. Half
 * the runs put a polling source on the simulated scheduler against a hostile lister (it throws
 * exceptions and Errors, a {@code StackOverflowError}, an {@code AssertionError}, an
 * {@code OutOfMemoryError} made by {@code new}; returns null; closes its own source) and a hostile
 * sink (it throws, or closes the source from inside a delivery), maybe closed by a timer mid-run;
 * then the hostility stops and the source polls in quiet. One run in eight races {@code close()}
 * on real threads against a lister that blocks until released; one in eight reads a folder
 * through a parser that throws ({@link DirectoryScenario}); a quarter feed a programmatic source
 * before and after its start, to a sink that may close the source during the replay of the
 * backlog.
 *
 * <p>Checks (only what {@code EventSource}, {@code EventSink} and the three sources promise):
 * <ul>
 *   <li>E1: nothing reaches the sink after a {@code close()} returned (not checked of the
 *       directory source, whose close does not wait for a scan under way);
 *   <li>E2: a Throwable thrown by the lister, parser or sink never reaches the scheduler's thread,
 *       nor comes out of {@code start()} or {@code close()} ("the source never stops on its own";
 *       "a file that fails to parse ... never crashes the source");
 *   <li>E3: after the last quiet poll or rescan the sink holds exactly what the lister last
 *       listed or the files say (the source went on after every throw, and no update was lost); a
 *       programmatic source's sink holds every event given to it;
 *   <li>E4: {@code start()} throws nothing because of what the sink did;
 *   <li>E5: a sink that closed its source from inside a delivery is told nothing more.
 * </ul>
 * A sink that throws breaks its own contract ("a sink never throws back into its source"), so
 * only a polling source meets one: it promises to go on regardless and to give the next listing
 * to such a sink whole, so E3 holds in those runs too.
 * Each run follows from its seed; a real-thread run's interleaving does not, but its checks hold
 * for every interleaving.
 */
public final class EventSourceProperty {
  /*
   * Overview: run() draws a scenario from the seed; each makes its source through `sources`,
   * drives it, and adds what it saw to one list of violations.
   *
   * Concurrency: the simulated and programmatic scenarios run on one thread; the close race and
   * the directory scenario deliver from pool or watch threads, so the list is synchronized, and
   * every thread a run starts has ended before run() returns.
   *
   * Ordering of this file: fields, construction, run, a section per scenario (polling simulated,
   * the close race, directory, programmatic), then start and close with their checks.
   */
  private static final Duration INTERVAL = Duration.ofSeconds(1);
  private static final Duration WAIT = Duration.ofSeconds(10);
  static final List<String> KEYS = List.of("a", "b", "c", "d");

  private final String name;
  private final SourcesUnderTest sources;

  /**
   * The property for {@code sources}.
   *
   * @param name the property's name, for reports
   * @param sources makes the sources each run attacks
   */
  public EventSourceProperty(String name, SourcesUnderTest sources) {
    this.name = name;
    this.sources = sources;
  }

  /**
   * The property for the engine's sources.
   *
   * @return the property named {@code event sources} over {@link SourcesUnderTest#engine()}
   */
  public static EventSourceProperty eventSources() {
    return new EventSourceProperty("event sources", SourcesUnderTest.engine());
  }

  /**
   * The property's name.
   *
   * @return the name given at construction
   */
  public String name() {
    return name;
  }

  /**
   * One run; returns the violations seen (empty if it passed).
   *
   * @param seed the run's seed: the same seed replays the same scenario
   * @return the violations, each starting with the check it fails ({@code "E1:"}, …)
   * @throws InterruptedException if interrupted while a real-thread run waits for its threads
   */
  public List<String> run(long seed) throws InterruptedException {
    SplittableRandom random = new SplittableRandom(seed);
    List<String> violations = Collections.synchronizedList(new ArrayList<>());
    switch (random.nextInt(8)) {
      case 0 -> closeRacesBlockedLister(random, violations);
      case 1, 2 -> programmatic(random, violations);
      case 3 -> directory(random, violations);
      default -> polling(random, violations);
    }
    return List.copyOf(violations);
  }

  // ---- a polling source on the simulated scheduler ----

  private void polling(SplittableRandom random, List<String> violations) {
    SimulatedScheduler scheduler = new SimulatedScheduler(random.nextLong(), Strategy.random());
    scheduler.onUncaught(t -> violations.add("E2: " + t + " reached the scheduler's thread"));
    int hostileCalls = 3 + random.nextInt(10);
    WatchingSink sink = new WatchingSink(violations);
    Store store = new Store(random);
    HostileLister lister = new HostileLister(random, store, hostileCalls, random.nextInt(3) == 0);
    EventSource<String, String> source = sources.polling(lister, INTERVAL, scheduler);
    lister.source = source;
    lister.sink = sink;
    lister.violations = violations;
    int sinkShape = random.nextInt(3); // takes every event in, throws, or closes its source
    boolean sinkThrows = sinkShape == 1;
    boolean sinkCloses = sinkShape == 2;
    sink.react(event -> {
      if (lister.calls <= hostileCalls) {
        hostileSink(random, sinkThrows, sinkCloses, source, sink, violations);
      }
    });
    if (random.nextInt(4) == 0) {
      scheduler.schedule(() -> close(source, sink::closedOutside, violations),
          INTERVAL.multipliedBy(random.nextInt(hostileCalls + 1)).plusMillis(500), "close");
    }
    start(source, sink, violations);
    scheduler.run(INTERVAL.multipliedBy(hostileCalls + 6), 100_000);
    if (!sink.closed()) {
      quietPollsAgree(lister, hostileCalls, sink, violations);
    }
    close(source, () -> { }, violations);
  }

  private static void hostileSink(SplittableRandom random, boolean sinkThrows, boolean sinkCloses,
      EventSource<String, String> source, WatchingSink sink, List<String> violations) {
    int draw = random.nextInt(8);
    if (sinkThrows && draw == 0) {
      throw new IllegalStateException("sink bug (hostile)");
    } else if (sinkThrows && draw == 1) {
      throw anError(random, "sink");
    } else if (sinkCloses && draw == 0) {
      close(source, sink::closedBySink, violations);
    }
  }

  private static void quietPollsAgree(HostileLister lister, int hostileCalls, WatchingSink sink,
      List<String> violations) {
    if (lister.calls < hostileCalls + 3) {
      violations.add("E3: the lister was asked " + lister.calls + " times in " + (hostileCalls + 6)
          + " intervals: polling stopped");
    } else if (!sink.view().equals(lister.lastListed)) {
      violations.add("E3: after quiet polls the sink holds " + sink.view()
          + " but the lister last listed " + lister.lastListed);
    }
  }

  /** The store the lister lists: four keys, each change at the next version. */
  private static final class Store {
    private final SplittableRandom random;
    private final Map<String, Versioned<String>> entries = new HashMap<>();
    private long version;

    Store(SplittableRandom random) {
      this.random = random;
      change();
    }

    void change() {
      String key = KEYS.get(random.nextInt(KEYS.size()));
      if (random.nextInt(3) == 0) {
        entries.remove(key);
      } else {
        version++;
        entries.put(key, Versioned.of(key + version, version));
      }
    }

    /** A change, then one the quiet polls must deliver even if the first removed a missing key. */
    void lastChange() {
      change();
      version++;
      entries.put("q", Versioned.of("q" + version, version));
    }

    Map<String, Versioned<String>> listing() {
      return new HashMap<>(entries);
    }
  }

  /** Lists the store; while hostile, throws, returns null or closes its own source instead. */
  private static final class HostileLister implements Callable<Map<String, Versioned<String>>> {
    private final SplittableRandom random;
    private final Store store;
    private final int hostileCalls;
    private final boolean closesItsSource;
    EventSource<String, String> source; // these three set once the source exists
    WatchingSink sink;
    List<String> violations;
    int calls; // the simulated scheduler runs every call on one thread
    Map<String, Versioned<String>> lastListed = Map.of();

    HostileLister(SplittableRandom random, Store store, int hostileCalls, boolean closesItsSource) {
      this.random = random;
      this.store = store;
      this.hostileCalls = hostileCalls;
      this.closesItsSource = closesItsSource;
    }

    @Override
    public Map<String, Versioned<String>> call() throws Exception {
      if (++calls > hostileCalls) {
        if (calls == hostileCalls + 1) {
          store.lastChange();
        }
        return listed(store.listing());
      }
      switch (random.nextInt(10)) {
        case 0 -> throw new IOException("store down (hostile lister)");
        case 1 -> throw new IllegalStateException("lister bug (hostile)");
        case 2 -> throw anError(random, "lister");
        case 3 -> {
          return null;
        }
        case 4 -> {
          if (closesItsSource) {
            close(source, sink::closedOutside, violations);
          }
        }
        default -> store.change();
      }
      return listed(store.listing());
    }

    private Map<String, Versioned<String>> listed(Map<String, Versioned<String>> listing) {
      lastListed = Map.copyOf(listing);
      return listing;
    }
  }

  private static Error anError(SplittableRandom random, String who) {
    return switch (random.nextInt(3)) {
      case 0 -> new StackOverflowError(who + " recursed (hostile)");
      case 1 -> new AssertionError(who + " assertion (hostile)");
      default -> new OutOfMemoryError(who + " out of memory (hostile, made by new)");
    };
  }

  // ---- close() races a lister that blocks, on real threads ----

  private void closeRacesBlockedLister(SplittableRandom random, List<String> violations)
      throws InterruptedException {
    int blockAt = 1 + random.nextInt(3);
    CountDownLatch inLister = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(2);
    WatchingSink sink = new WatchingSink(violations);
    int[] calls = {0}; // one call at a time, each after the previous ended
    EventSource<String, String> source = sources.polling(() -> {
      int call = ++calls[0];
      if (call == blockAt) {
        inLister.countDown();
        release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        return Map.of("a", Versioned.of("late", 1_000));
      }
      return Map.of("a", Versioned.of("a" + call, call));
    }, Duration.ofMillis(1), new PoolScheduler(pool, violations));
    try {
      start(source, sink, violations);
      if (!inLister.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
        violations.add("E3: the lister was not asked " + blockAt + " times in " + WAIT);
      }
      close(source, sink::closedOutside, violations);
    } finally {
      release.countDown();
      pool.shutdown();
      if (!pool.awaitTermination(WAIT.toSeconds(), TimeUnit.SECONDS)) {
        violations.add("E3: the source hung: its poll did not end within " + WAIT
            + " of its lister's release");
        pool.shutdownNow();
      }
    }
  }

  /** Runs tasks on a pool; a task that throws is a violation (E2), never the pool's problem. */
  private record PoolScheduler(ScheduledThreadPoolExecutor pool, List<String> violations)
      implements Scheduler {
    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public void execute(Runnable task) {
      schedule(task, Duration.ZERO);
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      try {
        var future = pool.schedule(() -> guarded(task), delay.toNanos(), TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
      } catch (RejectedExecutionException shutDown) { // the run is over: nothing more to poll
        return () -> { };
      }
    }

    private void guarded(Runnable task) {
      try {
        task.run();
      } catch (Throwable t) {
        violations.add("E2: " + t + " reached the scheduler's thread");
      }
    }
  }

  // ---- a directory source ----

  private void directory(SplittableRandom random, List<String> violations)
      throws InterruptedException {
    try {
      new DirectoryScenario(sources, random, violations).run();
    } catch (IOException e) {
      throw new UncheckedIOException("the directory scenario's folder failed", e);
    }
  }

  // ---- a programmatic source ----

  private void programmatic(SplittableRandom random, List<String> violations) {
    SourcesUnderTest.Fed fed = sources.manual();
    WatchingSink sink = new WatchingSink(violations);
    Map<String, Versioned<String>> expected = new HashMap<>();
    long[] version = {0};
    int backlog = random.nextInt(8);
    for (int i = 0; i < backlog; i++) {
      give(random, fed.feed(), expected, version);
    }
    int closeAt = random.nextInt(3) == 0 ? -1 : 1 + random.nextInt(backlog + 4);
    int[] delivered = {0};
    sink.react(event -> {
      if (++delivered[0] == closeAt) {
        close(fed.source(), sink::closedBySink, violations);
      }
    });
    try {
      fed.source().start(sink);
    } catch (Throwable t) {
      violations.add("E4: start() threw " + t + " (backlog " + backlog + ", the sink closes its"
          + " source at delivery " + closeAt + ")");
      return;
    }
    int outsideCloseAt = random.nextInt(2) == 0 ? -1 : random.nextInt(5);
    for (int i = 0; i < 5 && !sink.closed(); i++) {
      if (i == outsideCloseAt) {
        close(fed.source(), sink::closedOutside, violations);
      } else {
        give(random, fed.feed(), expected, version);
      }
    }
    if (sink.closed()) {
      refused(random, fed.feed(), version);
    } else if (!sink.view().equals(expected)) {
      violations.add("E3: the sink holds " + sink.view() + " but was given " + expected);
    }
  }

  private static void give(SplittableRandom random, EventSink<String, String> feed,
      Map<String, Versioned<String>> expected, long[] version) {
    String key = KEYS.get(random.nextInt(KEYS.size()));
    long v = ++version[0];
    switch (random.nextInt(6)) {
      case 0 -> {
        expected.remove(key);
        feed.delete(key, v);
      }
      case 1 -> {
        expected.remove(key);
        feed.resync(Map.copyOf(expected));
      }
      case 2 -> feed.progress(v);
      default -> {
        expected.put(key, Versioned.of(key + v, v));
        feed.upsert(key, key + v, v);
      }
    }
  }

  /** An event given after close: refused, however the refusal shows; the sink checks E1/E5. */
  private static void refused(SplittableRandom random, EventSink<String, String> feed,
      long[] version) {
    try {
      give(random, feed, new HashMap<>(), version);
    } catch (IllegalStateException refusedAsPromised) {
      // "events given after close are refused"
    }
  }

  // ---- start and close, whose throws are checked ----

  static void start(EventSource<String, String> source, WatchingSink sink,
      List<String> violations) {
    try {
      source.start(sink);
    } catch (Throwable t) {
      violations.add(thrownByUserCode(t) ? "E2: " + t + " came out of start()"
          : "E4: start() threw " + t);
    }
  }

  private static boolean thrownByUserCode(Throwable t) {
    for (Throwable cause = t; cause != null; cause = cause.getCause()) {
      if (String.valueOf(cause.getMessage()).contains("(hostile")) {
        return true;
      }
    }
    return false;
  }

  static void close(EventSource<String, String> source, Runnable returned,
      List<String> violations) {
    try {
      source.close();
    } catch (Throwable t) {
      violations.add("E2: close() threw " + t);
    }
    returned.run();
  }

  @Override
  public String toString() {
    return name;
  }
}
