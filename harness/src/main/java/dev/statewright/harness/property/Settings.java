package dev.statewright.harness.property;

import java.util.SplittableRandom;

/**
 * How many runs, from which seed, how parallel. {@code -Dstatewright.seed=N} fixes the master
 * seed; {@code -Dstatewright.replay=N} replays one run seed; {@code -Dstatewright.runs=N}
 * overrides the number of runs.
 *
 * @param runs runs to make
 * @param seed the master seed every run seed is drawn from
 * @param replay a single run seed to replay, or null
 * @param parallelShare the share of runs that are parallel programs (0..1)
 * @param threadShare the share of parallel runs made on real threads rather than simulated
 * @param checkerBudget linearizability search steps per check, all partitions together (the
 *     checker's default memory and time limits apply too)
 */
public record Settings(int runs, long seed, Long replay, double parallelShare, double threadShare,
    long checkerBudget) {

  /** Defaults: 200 runs, half parallel, one in ten of those on real threads. */
  public static Settings defaults() {
    String fixed = System.getProperty("statewright.seed");
    String replay = System.getProperty("statewright.replay");
    String runs = System.getProperty("statewright.runs");
    return new Settings(runs == null ? 200 : Integer.parseInt(runs),
        fixed == null ? new SplittableRandom().nextLong() : Long.parseLong(fixed),
        replay == null ? null : Long.parseLong(replay), 0.5, 0.1, 300_000); // 100,000 for each of 3 keys
  }

  /** These settings with {@code runs} runs (unless -Dstatewright.runs overrides). */
  public Settings runs(int runs) {
    return System.getProperty("statewright.runs") != null ? this
        : new Settings(runs, seed, replay, parallelShare, threadShare, checkerBudget);
  }

  /** These settings from master seed {@code seed}. */
  public Settings seed(long seed) {
    return new Settings(runs, seed, replay, parallelShare, threadShare, checkerBudget);
  }

  /** These settings replaying run seed {@code runSeed} only. */
  public Settings replay(long runSeed) {
    return new Settings(runs, seed, runSeed, parallelShare, threadShare, checkerBudget);
  }

  /** These settings with no runs on real threads (fully deterministic). */
  public Settings simulatedOnly() {
    return new Settings(runs, seed, replay, parallelShare, 0, checkerBudget);
  }
}
