package dev.statewright.harness.linearizability;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Decides whether a history is linearizable with respect to a {@link SequentialSpec}: the
 * Wing–Gong search with Lowe's exact memoisation of (linearized set, state) pairs, per partition
 * (key), every partition searched together under one {@link Budget}.
 *
 * <p>Partitions take turns of 1,000 steps, smallest first, so a partition that is hard
 * to decide cannot starve one that is quickly proven illegal; the check stops at the first
 * partition proven non-linearizable and names it. When a limit of the budget is reached, or the
 * calling thread is interrupted (cancel the future the check runs in), the answer is
 * {@link Verdict.Kind#UNKNOWN} with every undecided partition. Operations that
 * {@link Result#failed() failed} are left out; {@link Result#unknown() unknown} ones may be
 * placed anywhere after their invocation, or never.
 *
 * <p>For a non-linearizable or undecided verdict the checker writes a self-contained HTML
 * timeline (see {@link Verdict#writeTimeline}) into its timeline folder,
 * {@link #DEFAULT_TIMELINES} unless told otherwise, and the verdict's message links it.
 *
 * <p>Partitioning is sound when the spec is a product of independent per-partition states, as a
 * map of keys is. Immutable and thread-safe; each check runs on the calling thread.
 */
public final class LinearizabilityChecker {
  /** Steps one partition runs before the next takes its turn. */
  static final int SLICE = 1_000;

  /** Where timelines go unless told otherwise: {@code target/statewright/linearizability}. */
  public static final Path DEFAULT_TIMELINES = Path.of("target", "statewright", "linearizability");

  private final Budget budget;
  private final Path timelines;
  private final Supplier<Memo> memos;

  private LinearizabilityChecker(Budget budget, Path timelines, Supplier<Memo> memos) {
    this.budget = Objects.requireNonNull(budget, "budget");
    this.timelines = timelines;
    this.memos = memos;
  }

  /**
   * A checker with the {@link Budget#defaults() default budget}, writing timelines into
   * {@link #DEFAULT_TIMELINES}.
   */
  public LinearizabilityChecker() {
    this(Budget.defaults());
  }

  /**
   * A checker with {@code budget}, writing timelines into {@link #DEFAULT_TIMELINES}.
   *
   * @param budget what one check may spend
   * @throws NullPointerException if {@code budget} is null
   */
  public LinearizabilityChecker(Budget budget) {
    this(budget, DEFAULT_TIMELINES, ExactMemo::new);
  }

  /**
   * CANARY: a checker with the memo of the checker before issue 12, whose entries change after
   * they are stored. It can answer ILLEGAL for a linearizable history; never check anything with
   * it. It exists for the tests that prove they catch that bug and as the benchmark's baseline.
   *
   * @param budget what one check may spend
   * @return the broken checker (it writes no timelines)
   */
  public static LinearizabilityChecker mutableMemoCanary(Budget budget) {
    return new LinearizabilityChecker(budget, null, MutableMemo::new);
  }

  /**
   * This checker writing its timelines into {@code folder}.
   *
   * @param folder where to write them
   * @return the new checker
   * @throws NullPointerException if {@code folder} is null
   */
  public LinearizabilityChecker writingTimelinesTo(Path folder) {
    return new LinearizabilityChecker(budget, Objects.requireNonNull(folder, "folder"), memos);
  }

  /**
   * This checker writing no timelines (callers that write their own, such as the property
   * runner for the shrunk failure only).
   *
   * @return the new checker
   */
  public LinearizabilityChecker withoutTimelines() {
    return new LinearizabilityChecker(budget, null, memos);
  }

  /**
   * The budget of each check.
   *
   * @return the budget
   */
  public Budget budget() {
    return budget;
  }

  /**
   * Checks {@code history} against {@code spec}, all partitions together.
   *
   * @param history the operations, in any order
   * @param spec the sequential reference
   * @param <S> the spec state
   * @param <I> the input type
   * @param <O> the output type
   * @return LINEARIZABLE, ILLEGAL naming the partition, or UNKNOWN naming the undecided ones
   * @throws NullPointerException if an argument or an operation is null
   */
  public <S, I, O> Verdict<I, O> check(List<Operation<I, O>> history, SequentialSpec<S, I, O> spec) {
    Objects.requireNonNull(spec, "spec");
    Verdict<I, O> verdict = new Turns<>(searches(history, spec)).run();
    return verdict.linearizable() || timelines == null ? verdict
        : verdict.writeTimeline(timelines.resolve(fileName(verdict)));
  }

  private <S, I, O> List<PartitionSearch<S, I, O>> searches(List<Operation<I, O>> history,
      SequentialSpec<S, I, O> spec) {
    Map<Object, List<Operation<I, O>>> partitions = new LinkedHashMap<>();
    for (Operation<I, O> op : history) {
      if (op.result().kind() != Result.Kind.FAILED) {
        partitions.computeIfAbsent(op.partition(), p -> new ArrayList<>()).add(op);
      }
    }
    List<PartitionSearch<S, I, O>> searches = new ArrayList<>(partitions.size());
    partitions.forEach((key, ops) -> searches.add(new PartitionSearch<>(key, ops, spec, memos.get())));
    searches.sort(Comparator.comparingInt(PartitionSearch::size)); // stable: ties keep first appearance
    return searches;
  }

  private static String fileName(Verdict<?, ?> verdict) {
    String key = String.valueOf(verdict.partition()).replaceAll("[^A-Za-z0-9_.-]", "_");
    String digest = Integer.toHexString(verdict.partitions().hashCode());
    return (verdict.kind() == Verdict.Kind.ILLEGAL ? "not-linearizable-" : "undecided-")
        + key.substring(0, Math.min(40, key.length())) + "-" + digest + ".html";
  }

  /** The partitions taking turns under the shared budget. */
  private final class Turns<S, I, O> {
    private final Deque<PartitionSearch<S, I, O>> waiting;
    private final long deadline = System.nanoTime() + budget.time().toNanos();
    private long steps;
    private long statesVisited;
    private long memoBytes;

    Turns(List<PartitionSearch<S, I, O>> searches) {
      this.waiting = new ArrayDeque<>(searches);
    }

    Verdict<I, O> run() {
      while (!waiting.isEmpty()) {
        Optional<String> exhausted = exhausted();
        if (exhausted.isPresent()) {
          return undecided(exhausted.get());
        }
        PartitionSearch<S, I, O> search = waiting.poll();
        PartitionSearch.Status status = turn(search);
        if (status == PartitionSearch.Status.ILLEGAL) {
          return verdict(Verdict.Kind.ILLEGAL, "", List.of(search.verdict(Verdict.Kind.ILLEGAL)));
        }
        if (status == PartitionSearch.Status.RUNNING) {
          waiting.add(search);
        } else {
          memoBytes -= search.memoBytes(); // its memo is dropped with it
          statesVisited += search.statesVisited();
        }
      }
      return verdict(Verdict.Kind.LINEARIZABLE, "", List.of());
    }

    private PartitionSearch.Status turn(PartitionSearch<S, I, O> search) {
      long stepsBefore = search.steps();
      long bytesBefore = search.memoBytes();
      PartitionSearch.Status status = search.advance(Math.min(SLICE, budget.steps() - steps));
      steps += search.steps() - stepsBefore;
      memoBytes += search.memoBytes() - bytesBefore;
      return status;
    }

    private Optional<String> exhausted() {
      if (Thread.currentThread().isInterrupted()) {
        return Optional.of("cancelled: the checking thread was interrupted");
      }
      if (steps >= budget.steps()) {
        return Optional.of("step budget of " + budget.steps() + " reached");
      }
      if (memoBytes >= budget.memoBytes()) {
        return Optional.of("memo budget of " + budget.memoBytes() + " bytes reached");
      }
      if (System.nanoTime() - deadline >= 0) {
        return Optional.of("time budget of " + budget.time().toMillis() + " ms reached");
      }
      return Optional.empty();
    }

    private Verdict<I, O> undecided(String reason) {
      List<PartitionVerdict<I, O>> open = new ArrayList<>(waiting.size());
      waiting.forEach(search -> open.add(search.verdict(Verdict.Kind.UNKNOWN)));
      return verdict(Verdict.Kind.UNKNOWN, reason, open);
    }

    private Verdict<I, O> verdict(Verdict.Kind kind, String reason, List<PartitionVerdict<I, O>> parts) {
      long visited = statesVisited + parts.stream().mapToLong(PartitionVerdict::statesVisited).sum();
      return new Verdict<>(kind, reason, parts, steps, visited, Optional.empty());
    }
  }
}
