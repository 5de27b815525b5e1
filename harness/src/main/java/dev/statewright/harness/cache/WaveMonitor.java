package dev.statewright.harness.cache;

import dev.statewright.cache.Wave;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * C14 as seen from outside: which dependents each change of the secret marked stale
 * (DEPENDENCY_CHANGED, from the cache's listener) and when, and how the builds after those marks
 * ended (from the factory). Checks that after its canaries a wave marks no more than its rate in
 * any window, that no dependent is marked twice in one wave, that nothing is marked after a canary
 * failed, and that the change's future says how the wave ended.
 *
 * <p>Confined to the simulation's thread.
 */
public final class WaveMonitor {
  private final int builds;
  private final long perNanos;
  private final Scheduler scheduler;
  private final List<String> violations = new ArrayList<>();
  private final List<Run> runs = new ArrayList<>();
  private Run current;
  /** True while a change call runs: what it marks are the wave's canaries. */
  private boolean changing;

  /** One change of the secret and the wave it started. */
  static final class Run {
    final int index;
    final long at;
    /** Builds started before the change. */
    final long startsBefore;
    final Set<String> canaries = new HashSet<>();
    final Set<String> marked = new HashSet<>();
    final Deque<Long> laterMarks = new ArrayDeque<>();
    final Set<String> canariesServed = new HashSet<>();
    long stoppedAt = -1;
    String stoppedBy;
    boolean futureDone;
    Throwable futureError;

    Run(int index, long at, long startsBefore) {
      this.index = index;
      this.at = at;
      this.startsBefore = startsBefore;
    }

    boolean stopped() {
      return stoppedAt >= 0;
    }

    boolean canariesAllServed() {
      return canariesServed.containsAll(canaries);
    }
  }

  /**
   * Watches a wave that releases {@code wave.builds()} per {@code wave.per()} after its canaries.
   *
   * @param wave the wave the cache was built with
   * @param scheduler the run's scheduler, whose clock dates each build the monitor sees
   */
  public WaveMonitor(Wave wave, Scheduler scheduler) {
    this.builds = wave.builds();
    this.perNanos = wave.per().orElse(Duration.ZERO).toNanos();
    this.scheduler = scheduler;
  }

  /** A change of the secret is about to be announced, {@code starts} builds in; returns its run. */
  Run changing(long starts) {
    current = new Run(runs.size() + 1, scheduler.nanoTime(), starts);
    runs.add(current);
    changing = true;
    return current;
  }

  /** The change call returned. */
  void changed() {
    changing = false;
  }

  /** The listener saw {@code key} go DEPENDENCY_CHANGED. */
  void marked(String key) {
    Run run = current;
    if (run == null) {
      return;
    }
    long now = scheduler.nanoTime();
    if (!run.marked.add(key)) {
      violation("C14: twice: change #" + run.index + " marked " + key + " twice");
    }
    if (changing) {
      run.canaries.add(key);
      return;
    }
    if (run.stopped()) {
      violation("C14: canary: change #" + run.index + " marked " + key + " at " + at(now)
          + ", after its canary "
          + run.stoppedBy + " failed at " + at(run.stoppedAt));
    }
    run.laterMarks.addLast(now);
    while (run.laterMarks.peekFirst() <= now - perNanos) {
      run.laterMarks.removeFirst();
    }
    if (perNanos > 0 && run.laterMarks.size() > builds) {
      violation("C14: rate: change #" + run.index + " marked " + run.laterMarks.size()
          + " dependents within " + Duration.ofNanos(perNanos) + " up to " + at(now) + "; its rate is "
          + builds);
    }
  }

  /** Whether a build of {@code key} starting now follows its mark by the current change. */
  boolean startsAfterMark(String key) {
    return current != null && current.marked.contains(key);
  }

  /** A build of {@code key} ended; {@code afterMark} as {@link #startsAfterMark} said at its start. */
  void buildEnded(String key, boolean afterMark, Run of, Throwable error) {
    Run run = current;
    if (!afterMark || of != run || !run.canaries.contains(key) || run.canariesServed.contains(key)) {
      return;
    }
    if (error == null) {
      run.canariesServed.add(key);
    } else if (!run.stopped() && run.laterMarks.isEmpty() && !run.canariesAllServed()) {
      run.stoppedAt = scheduler.nanoTime();
      run.stoppedBy = key + " (" + error.getMessage() + ")";
    }
  }

  /** The current run, for a build to remember which change it followed. */
  Run current() {
    return current;
  }

  /** The future of {@code run}'s change completed. */
  void futureDone(Run run, Throwable error) {
    run.futureDone = true;
    run.futureError = error;
    if (run.stopped() && error == null && run == current) {
      violation("C14: future: change #" + run.index + "'s future completed normally though its canary "
          + run.stoppedBy + " failed");
    }
  }

  /**
   * At quiescence: every change's future completed, a stopped wave's held dependents record an
   * error unless a retry of their own rebuilt them since, a finished wave's serve clients built
   * after their mark.
   *
   * @param live the live dependents
   * @param servedStartedAs builds started before the served client's, its own included; -1: none
   * @param markedAtStarts builds started before a key's latest mark
   * @param hasError whether a key records a last error
   * @param changedSince whether a key's spec changed after the given time
   */
  List<String> finish(List<String> live, ToLongFunction<String> servedStartedAs,
      ToLongFunction<String> markedAtStarts, Predicate<String> hasError,
      BiPredicate<String, Long> changedSince) {
    for (Run run : runs) {
      if (!run.futureDone) {
        violation("C14: future: the future of change #" + run.index + " never completed");
      }
    }
    Run last = current;
    if (last == null) {
      return violations;
    }
    for (String key : live) {
      if (changedSince.test(key, last.at)) {
        continue; // its own spec change rebuilt it
      }
      long served = servedStartedAs.applyAsLong(key);
      if (last.stopped() && !last.marked.contains(key)) {
        if (!hasError.test(key) && served <= last.startsBefore) {
          violation("C14: held: " + key + " was held back by the failed canary " + last.stoppedBy
              + " of change #" + last.index + " but records no error");
        }
      } else if (!last.stopped() && last.futureDone && last.futureError == null
          && served <= markedAtStarts.applyAsLong(key)) {
        violation("C14: rebuilt: change #" + last.index + "'s future completed but " + key
            + " serves a client built before it");
      }
    }
    return violations;
  }

  void violation(String message) {
    if (violations.size() < 20) {
      violations.add(message);
    }
  }

  private static String at(long nanos) {
    return Duration.ofNanos(nanos).toString();
  }
}
