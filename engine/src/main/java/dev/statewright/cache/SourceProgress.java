package dev.statewright.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;

/**
 * How far one source has delivered: the highest version it reported through
 * {@code EventSink.progress}, never going back, and the readers waiting for it to reach theirs.
 *
 * <p>Memory consistency effects: a source's actions before {@code advance(v)} (delivering the
 * events up to {@code v}) <i>happen-before</i> the completion of every wait for {@code v} or less.
 */
final class SourceProgress {
  /*
   * Overview: one number that only grows, and a queue of waits ordered by target.
   *
   * Concurrency: `reached` and `waits` are guarded by `lock`; waits are completed after the lock
   * is released, so a reader's continuation never runs under it. A wait that ends otherwise (the
   * reader timed out) is dropped lazily: `advance` skips completed waits, and `forget` removes one.
   *
   * Ordering of this file: fields, queries, advance, waits.
   */
  /** Nothing reported yet. */
  static final long NONE = -1;

  private final Object lock = new Object();
  private long reached = NONE; // guarded by lock
  private final PriorityQueue<Wait> waits = new PriorityQueue<>(); // guarded by lock
  private long arrivals; // guarded by lock

  /** A reader waiting for {@code target}; {@code order} breaks ties in arrival order. */
  private record Wait(long target, long order, CompletableFuture<Void> done)
      implements Comparable<Wait> {
    @Override
    public int compareTo(Wait other) {
      return target != other.target ? Long.compare(target, other.target)
          : Long.compare(order, other.order);
    }
  }

  /** The highest version reported, or {@link #NONE}. */
  long reached() {
    synchronized (lock) {
      return reached;
    }
  }

  /** Whether the source has reported progress at least once. */
  boolean hasReported() {
    return reached() != NONE;
  }

  /** Records that the source delivered everything up to {@code version}; lower ones are ignored. */
  void advance(long version) {
    List<Wait> due = new ArrayList<>(0);
    synchronized (lock) {
      if (version <= reached) {
        return;
      }
      reached = version;
      while (!waits.isEmpty() && waits.peek().target <= version) {
        due.add(waits.poll());
      }
    }
    due.forEach(wait -> wait.done.complete(null));
  }

  /**
   * Completes once the source has reached {@code target}: at once if it has. Completing the
   * returned future otherwise (a timeout) withdraws the wait.
   */
  CompletableFuture<Void> awaitAtLeast(long target) {
    Wait wait;
    synchronized (lock) {
      if (reached >= target) {
        return CompletableFuture.completedFuture(null);
      }
      wait = new Wait(target, arrivals++, new CompletableFuture<>());
      waits.add(wait);
    }
    wait.done.whenComplete((ignored, error) -> forget(wait));
    return wait.done;
  }

  /** Fails every wait with {@code error}: the cache is closing. */
  void failAll(Throwable error) {
    List<Wait> all;
    synchronized (lock) {
      all = new ArrayList<>(waits);
      waits.clear();
    }
    all.forEach(wait -> wait.done.completeExceptionally(error));
  }

  private void forget(Wait wait) {
    synchronized (lock) {
      waits.remove(wait);
    }
  }
}
