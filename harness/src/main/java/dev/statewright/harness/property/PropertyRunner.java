package dev.statewright.harness.property;

import dev.statewright.harness.linearizability.LinearizabilityChecker;
import dev.statewright.harness.sim.Strategy;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Checks a {@link Model}: generates sequential and parallel programs, runs them on a simulated
 * scheduler (and some on real threads), checks postconditions, linearizability and the model's
 * monitors, and shrinks the first failure to a minimal program. Every run follows from its run
 * seed, and every report says how to replay it.
 *
 * <p>In a JUnit 5 test a property is one line: {@code PropertyRunner.check(model, settings)},
 * which throws {@link PropertyFailedError} with the report.
 */
public final class PropertyRunner {
  private static final int SHRINK_RUNS = 400;
  private static final int SCHEDULES_PER_CANDIDATE = 6;

  private PropertyRunner() { }

  /**
   * What a check did.
   *
   * @param property the property's name
   * @param runs runs made
   * @param parallelRuns how many were parallel programs
   * @param threadRuns how many ran on real threads
   * @param unknown parallel runs whose linearizability the checker could not decide in budget
   * @param millis wall time taken
   * @param seed the master seed
   * @param failure the shrunk failure, if any
   */
  public record Summary(String property, int runs, int parallelRuns, int threadRuns, int unknown,
      long millis, long seed, Optional<Failure<?, ?>> failure) {

    @Override
    public String toString() {
      return property + ": " + runs + " runs (" + parallelRuns + " parallel, " + threadRuns
          + " on real threads, " + unknown + " undecided), " + millis + " ms, seed " + seed
          + failure.map(f -> ", FAILED (run seed " + f.runSeed() + ")").orElse(", passed");
    }
  }

  /** Runs the property and throws {@link PropertyFailedError} with the report if it fails. */
  public static <S, R> Summary check(Model<S, R> model, Settings settings) {
    Summary summary = explore(model, settings);
    System.out.println(summary);
    if (summary.failure().isPresent()) {
      throw new PropertyFailedError(summary.failure().get());
    }
    return summary;
  }

  /** Runs the property and returns what happened, the first failure shrunk. */
  public static <S, R> Summary explore(Model<S, R> model, Settings settings) {
    long start = System.nanoTime();
    Execution execution = new Execution(settings.checkerBudget());
    SplittableRandom master = new SplittableRandom(settings.seed());
    int runs = 0;
    int parallel = 0;
    int threads = 0;
    int unknown = 0;
    int total = settings.replay() != null ? 1 : settings.runs();
    for (; runs < total; runs++) {
      long runSeed = settings.replay() != null ? settings.replay() : master.nextLong();
      Run<S, R> run = Run.of(model, settings, runSeed);
      Outcome outcome = run.threads ? execution.onThreads(model, run.program)
          : execution.simulate(model, run.program, runSeed, run.strategy);
      parallel += run.program.parallel() ? 1 : 0;
      threads += run.threads ? 1 : 0;
      unknown += outcome.unknown() ? 1 : 0;
      if (outcome.failed()) {
        Failure<S, R> failure = shrink(execution, model, run, outcome, settings.seed(), runs);
        return new Summary(model.name(), runs + 1, parallel, threads, unknown, millisSince(start),
            settings.seed(), Optional.of(failure));
      }
    }
    return new Summary(model.name(), runs, parallel, threads, unknown, millisSince(start),
        settings.seed(), Optional.empty());
  }

  /** One run of {@code model} from {@code runSeed}, as a check would make it, without shrinking. */
  public static <S, R> Outcome runOnce(Model<S, R> model, long runSeed, Settings settings) {
    Execution execution = new Execution(settings.checkerBudget());
    Run<S, R> run = Run.of(model, settings, runSeed);
    return run.threads ? execution.onThreads(model, run.program)
        : execution.simulate(model, run.program, runSeed, run.strategy);
  }

  /**
   * Replays run seed {@code runSeed} on the simulated scheduler and describes it in full: the
   * program, the history, every step of the interleaving, the violations.
   */
  public static <S, R> String replay(Model<S, R> model, long runSeed) {
    Settings simulated = Settings.defaults().simulatedOnly();
    Run<S, R> run = Run.of(model, simulated, runSeed);
    Outcome outcome = new Execution(simulated.checkerBudget()).simulate(model, run.program, runSeed, run.strategy);
    StringBuilder out = new StringBuilder("replay of '" + model.name() + "' run seed " + runSeed
        + " (simulated, " + run.strategy + ")\nprogram:\n" + run.program + "history:\n");
    outcome.history().forEach(op -> out.append("  ").append(op).append('\n'));
    out.append("interleaving (").append(outcome.trace().size()).append(" steps):\n");
    outcome.trace().forEach(line -> out.append("  ").append(line).append('\n'));
    out.append(outcome.failed() ? "violations:\n" : "no violations\n");
    outcome.violations().forEach(v -> out.append("  ").append(v).append('\n'));
    return out.toString();
  }

  /**
   * Simulated runs per minute of parallel programs with {@code branches} branches, measured for
   * about {@code budget} on the calling thread.
   */
  public static <S, R> double simulatedRunsPerMinute(Model<S, R> model, int branches, java.time.Duration budget) {
    Settings parallel = new Settings(1, 0, null, 1.0, 0, Settings.defaults().checkerBudget());
    Execution execution = new Execution(parallel.checkerBudget());
    SplittableRandom seeds = new SplittableRandom(branches);
    long start = System.nanoTime();
    long deadline = start + budget.toNanos();
    int runs = 0;
    while (System.nanoTime() < deadline) {
      long seed = seeds.nextLong();
      Run<S, R> run = Run.of(model, parallel, seed);
      if (run.program.branches().size() == branches) {
        execution.simulate(model, run.program, seed, run.strategy);
        runs++;
      }
    }
    return runs * 60e9 / (System.nanoTime() - start);
  }

  /** One run's plan, all of it drawn from the run seed. */
  private record Run<S, R>(long seed, Program<S, R> program, Strategy strategy, boolean threads) {
    static <S, R> Run<S, R> of(Model<S, R> model, Settings settings, long seed) {
      SplittableRandom random = new SplittableRandom(seed);
      boolean parallel = random.nextDouble() < settings.parallelShare();
      boolean threads = parallel && random.nextDouble() < settings.threadShare();
      Strategy strategy = random.nextBoolean() ? Strategy.random() : Strategy.pct(3);
      return new Run<>(seed, generate(model, random, parallel), strategy, threads);
    }
  }

  static <S, R> Program<S, R> generate(Model<S, R> model, SplittableRandom random, boolean parallel) {
    S state = model.initialState();
    List<Command<S, R>> prefix = new ArrayList<>();
    int length = parallel ? random.nextInt(4) : 1 + random.nextInt(12);
    for (int i = 0; i < length; i++) {
      Command<S, R> command = model.generate(state, random);
      prefix.add(command);
      state = command.applyUnknown(state).orElse(state);
    }
    List<List<Command<S, R>>> branches = new ArrayList<>();
    if (parallel) {
      int count = 2 + random.nextInt(2);
      for (int b = 0; b < count; b++) {
        S branchState = state;
        List<Command<S, R>> branch = new ArrayList<>();
        for (int i = 1 + random.nextInt(5); i > 0; i--) {
          Command<S, R> command = model.generate(branchState, random);
          branch.add(command);
          branchState = command.applyUnknown(branchState).orElse(branchState);
        }
        branches.add(branch);
      }
    }
    return new Program<>(prefix, branches);
  }

  /**
   * Drops commands and branches and simplifies arguments while the program still fails on one of
   * a few schedules: concurrent failures are flaky, so each candidate gets several chances.
   */
  private static <S, R> Failure<S, R> shrink(Execution execution, Model<S, R> model, Run<S, R> run,
      Outcome outcome, long masterSeed, int runsBefore) {
    Program<S, R> best = run.program;
    Outcome bestOutcome = outcome;
    int budget = SHRINK_RUNS;
    boolean progress = true;
    while (progress && budget > 0) {
      progress = false;
      search:
      for (Program<S, R> candidate : best.shrinks()) {
        if (!candidate.valid(model.initialState())) {
          continue;
        }
        for (int k = 0; k < SCHEDULES_PER_CANDIDATE && budget > 0; k++, budget--) {
          Outcome tried = execution.simulate(model, candidate, run.seed + k, run.strategy);
          if (tried.failed()) {
            best = candidate;
            bestOutcome = tried;
            progress = true;
            break search;
          }
        }
      }
    }
    String where = run.threads ? "real threads" : "simulated, " + run.strategy;
    return new Failure<>(model.name(), masterSeed, run.seed, where, runsBefore, run.program, best,
        withTimeline(bestOutcome, model.name() + "-" + run.seed));
  }

  /**
   * The outcome with its verdict's timeline written (when the verdict is not linearizable) into
   * {@code -Dstatewright.timelines}, by default {@link LinearizabilityChecker#DEFAULT_TIMELINES}.
   */
  private static Outcome withTimeline(Outcome outcome, String name) {
    if (outcome.verdict() == null || outcome.verdict().linearizable()) {
      return outcome;
    }
    String folder = System.getProperty("statewright.timelines");
    Path file = (folder == null ? LinearizabilityChecker.DEFAULT_TIMELINES : Path.of(folder))
        .resolve(name.replaceAll("[^A-Za-z0-9_.-]", "_") + ".html");
    try {
      return new Outcome(outcome.violations(), outcome.verdict().writeTimeline(file), outcome.history(),
          outcome.trace(), outcome.steps());
    } catch (UncheckedIOException e) {
      return outcome; // the report still says everything; only the picture is missing
    }
  }

  private static long millisSince(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }
}
