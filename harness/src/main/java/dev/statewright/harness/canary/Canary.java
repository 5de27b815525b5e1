package dev.statewright.harness.canary;

import dev.statewright.harness.property.Model;
import dev.statewright.harness.property.PropertyRunner;
import dev.statewright.harness.property.Settings;
import dev.statewright.harness.staging.StagingProperty;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deliberately broken implementation and the property that must catch it. If a canary is not
 * caught, the harness has silently stopped finding bugs, and the build fails.
 */
public final class Canary {
  private final String name;
  private final String bug;
  private final Probe probe;

  /** One run of the property against the canary: the violations it saw. */
  @FunctionalInterface
  interface Probe {
    List<String> run(long seed) throws Exception;
  }

  private final Model<?, ?> model;

  private Canary(String name, String bug, Probe probe, Model<?, ?> model) {
    this.model = model;
    this.name = name;
    this.bug = bug;
    this.probe = probe;
  }

  static Canary ofModel(String name, String bug, Model<?, ?> model) {
    Settings simulated = Settings.defaults().simulatedOnly();
    return new Canary(name, bug, seed -> PropertyRunner.runOnce(model, seed, simulated).violations(), model);
  }

  static Canary ofScenario(String name, String bug, StagingProperty property) {
    return new Canary(name, bug, property::run, null);
  }

  /** Every canary: the cache's bug classes and staging's. */
  public static List<Canary> all() {
    return java.util.stream.Stream.concat(CacheCanaries.all().stream(), StagingCanaries.all().stream())
        .toList();
  }

  /** The property model of the cache canary {@code name}, to run it through the full runner. */
  public static Model<?, ?> cacheModel(String name) {
    return all().stream().filter(c -> c.name.equals(name) && c.model != null).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no cache canary named " + name)).model;
  }

  /** The canary's name. */
  public String name() {
    return name;
  }

  /** The bug class it reproduces. */
  public String bug() {
    return bug;
  }

  /**
   * What hunting a canary found.
   *
   * @param canary its name
   * @param caught whether a run caught it
   * @param runs runs made, up to and including the catching one
   * @param millis wall time taken
   * @param evidence the first violation seen
   * @param runSeed the catching run's seed
   */
  public record Hunt(String canary, boolean caught, int runs, long millis, String evidence, long runSeed) {
    @Override
    public String toString() {
      return String.format("%-28s %s in %4d run(s), %5d ms%s", canary, caught ? "caught" : "MISSED",
          runs, millis, caught ? " -- " + evidence : "");
    }
  }

  /** Runs the property against the canary, seeded, until a run catches it or the budget is spent. */
  public Hunt hunt(long seed, int maxRuns) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    long start = System.nanoTime();
    for (int run = 1; run <= maxRuns; run++) {
      long runSeed = random.nextLong();
      List<String> violations = probe.run(runSeed);
      if (!violations.isEmpty()) {
        return new Hunt(name, true, run, (System.nanoTime() - start) / 1_000_000, violations.get(0),
            runSeed);
      }
    }
    return new Hunt(name, false, maxRuns, (System.nanoTime() - start) / 1_000_000, "", 0);
  }
}
