package dev.statewright.staging;

import dev.statewright.lease.Lease;
import dev.statewright.time.Scheduler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Applies one action to several targets over content staged once: each target holds its own
 * lease on every staged item (named after the target) while its action runs. The first failure
 * stops new targets from starting; those already running finish; every lease is closed.
 */
public final class Rollout {
  /*
   * Overview: sequential() runs targets one by one on the caller's thread; parallel() hands each
   * to the scheduler, bounded by a semaphore of `parallelism` slots.
   *
   * Concurrency: each target writes only its own slot of `results`; the caller takes every slot
   * back before reading them (slot releases happen-before the final acquire), so the report sees
   * every result. `stopped` is set by the first failure; targets not yet started are skipped.
   * Any Throwable an action throws, an Error included, is that target's FAILED result, so no
   * slot is ever left empty.
   *
   * Transitions per target: SKIPPED, or started -> SUCCEEDED | FAILED (all terminal).
   *
   * File order: the API types, sequential, parallel, the per-target step.
   */
  private Rollout() { }

  /**
   * What to do for one target, given the staged paths in the order the items were given.
   *
   * @param <T> the target type
   */
  @FunctionalInterface
  public interface TargetAction<T> {
    /**
     * Applies the run to {@code target}.
     *
     * @param target the target to apply the run to
     * @param paths the staged path of each item, in the order the items were given, each leased
     *     to this target until the action returns; an immutable list
     * @throws Exception if the target failed: it is reported {@link Outcome#FAILED} with this
     *     error, and no further target starts
     */
    void apply(T target, List<Path> paths) throws Exception;
  }

  /** How one target ended. */
  public enum Outcome {
    /** Its action returned. */
    SUCCEEDED,
    /** Its action (or leasing its content) threw. */
    FAILED,
    /** An earlier failure stopped the run before it started. */
    SKIPPED
  }

  /**
   * One target's outcome.
   *
   * @param target the target
   * @param outcome how it ended
   * @param error what failed, for {@link Outcome#FAILED}; null otherwise
   * @param <T> the target type
   */
  public record TargetResult<T>(T target, Outcome outcome, Throwable error) { }

  /**
   * Every target's outcome, in the order the targets were given.
   *
   * @param results the outcomes
   * @param <T> the target type
   */
  public record Report<T>(List<TargetResult<T>> results) {
    /**
     * Whether every target succeeded.
     *
     * @return true if every result is {@link Outcome#SUCCEEDED}, including for no targets at all
     */
    public boolean succeeded() {
      return results.stream().allMatch(r -> r.outcome() == Outcome.SUCCEEDED);
    }

    /**
     * The targets that failed.
     *
     * @return the {@link Outcome#FAILED} results, in target order; empty if none failed
     */
    public List<TargetResult<T>> failures() {
      return results.stream().filter(r -> r.outcome() == Outcome.FAILED).toList();
    }
  }

  /**
   * One target after another, on the calling thread.
   *
   * @param <T> the target type
   * @param staged the items every target leases, each under the target's
   *     {@link String#valueOf(Object) string form}
   * @param targets the targets, in the order they run
   * @param action what to do for each target
   * @return every target's outcome, in target order; the targets after the first failure are
   *     {@link Outcome#SKIPPED}
   */
  public static <T> Report<T> sequential(List<Staged> staged, List<T> targets, TargetAction<T> action) {
    List<TargetResult<T>> results = new ArrayList<>();
    boolean stopped = false;
    for (T target : targets) {
      TargetResult<T> result = stopped ? skipped(target) : applyTo(staged, target, action);
      stopped |= result.outcome() == Outcome.FAILED;
      results.add(result);
    }
    return new Report<>(List.copyOf(results));
  }

  /**
   * Up to {@code parallelism} targets at once on {@code scheduler}; returns when all have ended.
   *
   * @param <T> the target type
   * @param staged the items every target leases, each under the target's
   *     {@link String#valueOf(Object) string form}
   * @param targets the targets, started in this order
   * @param parallelism the most targets whose actions run at once; 1 or more
   * @param scheduler runs the actions; the calling thread waits, uninterruptibly, for them. A
   *     target it refuses ({@code execute} throws) is {@link Outcome#FAILED} with that exception
   * @param action what to do for each target
   * @return every target's outcome, in target order; targets not yet started at the first failure
   *     are {@link Outcome#SKIPPED}
   * @throws IllegalArgumentException if {@code parallelism} is less than 1
   * @throws NullPointerException if {@code scheduler} is null
   */
  public static <T> Report<T> parallel(List<Staged> staged, List<T> targets, int parallelism,
      Scheduler scheduler, TargetAction<T> action) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, got " + parallelism);
    }
    Objects.requireNonNull(scheduler, "scheduler");
    AtomicReferenceArray<TargetResult<T>> results = new AtomicReferenceArray<>(targets.size());
    Semaphore slots = new Semaphore(parallelism);
    AtomicBoolean stopped = new AtomicBoolean();
    for (int i = 0; i < targets.size(); i++) {
      T target = targets.get(i);
      slots.acquireUninterruptibly();
      if (stopped.get()) {
        results.set(i, skipped(target));
        slots.release();
        continue;
      }
      int index = i;
      try {
        scheduler.execute(() -> {
          try {
            TargetResult<T> result = applyTo(staged, target, action);
            results.set(index, result);
            if (result.outcome() == Outcome.FAILED) {
              stopped.set(true);
            }
          } finally {
            slots.release();
          }
        });
      } catch (RuntimeException refused) { // a pool shut down: this target's failure, as any
        results.set(i, new TargetResult<>(target, Outcome.FAILED, refused));
        stopped.set(true);
        slots.release();
      }
    }
    slots.acquireUninterruptibly(parallelism); // every started target has ended
    List<TargetResult<T>> all = new ArrayList<>(targets.size());
    for (int i = 0; i < targets.size(); i++) {
      all.add(results.get(i));
    }
    return new Report<>(List.copyOf(all));
  }

  private static <T> TargetResult<T> applyTo(List<Staged> staged, T target, TargetAction<T> action) {
    String holder = String.valueOf(target);
    List<Lease<Path>> leases = new ArrayList<>(staged.size());
    try {
      List<Path> paths = new ArrayList<>(staged.size());
      for (Staged item : staged) {
        Lease<Path> lease = item.acquire(holder);
        leases.add(lease);
        paths.add(lease.get());
      }
      action.apply(target, List.copyOf(paths));
      return new TargetResult<>(target, Outcome.SUCCEEDED, null);
    } catch (Throwable t) { // an Error is this target's failure too: the report must hold it
      return new TargetResult<>(target, Outcome.FAILED, t);
    } finally {
      leases.forEach(Lease::close);
    }
  }

  private static <T> TargetResult<T> skipped(T target) {
    return new TargetResult<>(target, Outcome.SKIPPED, null);
  }
}
