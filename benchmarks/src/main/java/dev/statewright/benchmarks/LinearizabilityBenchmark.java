package dev.statewright.benchmarks;

import dev.statewright.benchmarks.GeneratedHistories.Op;
import dev.statewright.harness.linearizability.Budget;
import dev.statewright.harness.linearizability.LinearizabilityChecker;
import dev.statewright.harness.linearizability.Operation;
import dev.statewright.harness.linearizability.Verdict;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Question 9: how long does the linearizability checker take to decide a history, and how many
 * search steps does its exact memo save against the old, mutable one? Workload: one generated
 * history per parameter cell ({@link GeneratedHistories}, fixed seed): a register (one key, reads
 * and writes) or key-value (8 keys, reads, writes and appends) history of 10, 100 or 1,000
 * operations by 2, 10 or 50 always-busy clients, linearizable or with one read of a value never
 * written. Each operation checks the whole history with a budget of 1,000,000 steps (the default
 * memory and time limits). Baseline in the same class and fork: the same search with the memo of
 * the checker before issue 12 ({@link LinearizabilityChecker#mutableMemoCanary}), whose entries
 * change after they are stored.
 *
 * <p>The aux counters are sums over a run, as JMH adds events up across iterations: divide by
 * {@code checks} for one history's {@code steps} and {@code states} (exact: every check of a cell
 * checks the same history and the search is deterministic), and the share of checks answered
 * {@code undecided} (the budget ran out first) or {@code illegal} (on a linearizable history, a
 * wrong answer). Single-threaded by nature: run it at one thread.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LinearizabilityBenchmark -t 1}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 2, time = 1)
@Fork(1)
public class LinearizabilityBenchmark {
  static final Budget BUDGET = Budget.defaults().withSteps(1_000_000);

  @Param({"register", "kv"})
  public String model;

  @Param({"10", "100", "1000"})
  public int operations;

  @Param({"2", "10", "50"})
  public int clients;

  @Param({"true", "false"})
  public boolean linearizable;

  private final LinearizabilityChecker exact = new LinearizabilityChecker(BUDGET).withoutTimelines();
  private final LinearizabilityChecker mutable = LinearizabilityChecker.mutableMemoCanary(BUDGET);
  private List<Operation<Op, String>> history;

  /** What one check of the history did. */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class Search {
    public long checks;
    public long steps;
    public long states;
    public long undecided;
    public long illegal;

    Verdict<Op, String> record(Verdict<Op, String> verdict) {
      checks++;
      steps += verdict.steps();
      states += verdict.statesVisited();
      undecided += verdict.kind() == Verdict.Kind.UNKNOWN ? 1 : 0;
      illegal += verdict.kind() == Verdict.Kind.ILLEGAL ? 1 : 0;
      return verdict;
    }
  }

  /** Generates the cell's history, from a seed fixed by the cell. */
  @Setup(Level.Trial)
  public void generate() {
    history = GeneratedHistories.generate(model.equals("kv"), operations, clients, linearizable,
        31L * operations + clients);
  }

  /**
   * The checker as it is.
   *
   * @param search the counters
   * @return the verdict
   */
  @Benchmark
  public Verdict<Op, String> exactMemo(Search search) {
    return search.record(exact.check(history, GeneratedHistories.SPEC));
  }

  /**
   * The baseline: the same search with the memo before issue 12.
   *
   * @param search the counters
   * @return the verdict
   */
  @Benchmark
  public Verdict<Op, String> mutableMemo(Search search) {
    return search.record(mutable.check(history, GeneratedHistories.SPEC));
  }
}
