package dev.statewright.harness.sim;

/**
 * How a {@link SimulatedScheduler} picks the next ready task.
 *
 * <p>{@link #random()} picks uniformly. {@link #pct(int)} is Probabilistic Concurrency Testing
 * (Burckhardt et al., ASPLOS 2010), adapted to tasks: every task gets a random priority when it is
 * submitted, the highest-priority ready task runs, and at {@code depth - 1} random steps the task
 * that runs is demoted below all others. A bug that needs {@code depth} ordering constraints is
 * found with probability at least 1/(n·k^(depth-1)) per run.
 */
public final class Strategy {
  private final String name;
  private final int depth;

  private Strategy(String name, int depth) {
    this.name = name;
    this.depth = depth;
  }

  /**
   * Uniformly random choice of the next ready task.
   *
   * @return the strategy
   */
  public static Strategy random() {
    return new Strategy("random", 0);
  }

  /**
   * PCT with bug depth {@code depth} (at least 1).
   *
   * @param depth the bug depth
   * @return the strategy
   */
  public static Strategy pct(int depth) {
    if (depth < 1) {
      throw new IllegalArgumentException("PCT depth must be >= 1, got " + depth);
    }
    return new Strategy("pct(" + depth + ")", depth);
  }

  boolean isPct() {
    return depth > 0;
  }

  int depth() {
    return depth;
  }

  @Override
  public String toString() {
    return name;
  }
}
