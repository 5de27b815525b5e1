package dev.statewright.harness.explore;

import dev.statewright.harness.cache.CacheModel;
import dev.statewright.harness.cache.CacheModel.Liveness;
import dev.statewright.harness.cache.Hostility;
import dev.statewright.harness.cache.WaveProperty;
import dev.statewright.harness.canary.Canary;
import dev.statewright.harness.cluster.ClusterSimulation;
import dev.statewright.harness.event.EventSourceProperty;
import dev.statewright.harness.property.PropertyRunner;
import dev.statewright.harness.property.Settings;
import dev.statewright.harness.staging.StagingProperty;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * {@code explore}: both lifecycles' properties, the cache's liveness properties (each kind of hostility
 * alone and all of them mixed, one run in a hundred each), its renewing property (expiry and
 * reconfigure, one run in ten),
 * the multi-node simulation, the event sources' property (as many runs as the cache property's)
 * and every canary, from one seed and within a run budget. The last line is exactly
 * {@code explore: R runs, V violations, canaries C/T caught}.
 */
public final class Exploration {
  private static final int CANARY_BUDGET = 300;
  private static final int LIVENESS_SHARE = 100; // per kind: seven kinds and their mixture
  private static final int LIVENESS_BACKLOG = 1_000;
  private static final int RENEWING_SHARE = 10; // its runs settle through many refreshes: slower

  private final PrintStream out;

  /**
   * An exploration that reports to {@code out}.
   *
   * @param out where the report goes
   */
  public Exploration(PrintStream out) {
    this.out = Objects.requireNonNull(out, "out");
  }

  /**
   * What an exploration found.
   *
   * @param runs property and scenario runs made
   * @param violations properties or scenarios that failed
   * @param caught canaries caught
   * @param canaries canaries in all
   */
  public record Result(int runs, int violations, int caught, int canaries) {
    /**
     * Whether nothing was found and every canary was caught.
     *
     * @return true if clean
     */
    public boolean clean() {
      return violations == 0 && caught == canaries;
    }
  }

  /**
   * Explores with {@code runs} runs of the cache property (fewer of the slower scenarios).
   *
   * @param runs runs of the cache property
   * @param seed the master seed
   * @return what was found
   * @throws Exception if a scenario cannot run at all
   */
  public Result run(int runs, long seed) throws Exception {
    out.println("explore: " + runs + " runs of the cache property, seed " + seed
        + " (replay a run with: replay --seed <run seed>)");
    SplittableRandom seeds = new SplittableRandom(seed);
    int total = 0;
    int violations = 0;
    int livenessRuns = Math.max(5, runs / LIVENESS_SHARE); // each run may build a backlog of 1,000 keys
    List<CacheModel> liveness = new ArrayList<>(CacheModel.clientCacheLivenessAspects(LIVENESS_BACKLOG));
    liveness.add(CacheModel.clientCacheLiveness("client cache liveness: mixed",
        Liveness.of(LIVENESS_BACKLOG, Hostility::draw, true)));
    List<CacheModel> models = new ArrayList<>(List.of(CacheModel.clientCache(), CacheModel.clientCacheWithFaults()));
    models.addAll(liveness);
    CacheModel renewing = CacheModel.clientCacheRenewing();
    models.add(renewing);
    for (var model : models) {
      Settings settings = Settings.defaults().seed(seeds.nextLong());
      settings = liveness.contains(model) ? settings.simulatedOnly().runs(livenessRuns)
          : model == renewing ? settings.simulatedOnly().runs(Math.max(5, runs / RENEWING_SHARE))
          : settings.runs(runs);
      PropertyRunner.Summary summary = PropertyRunner.explore(model, settings);
      out.println("  " + summary);
      summary.failure().ifPresent(f -> out.println(f.report()));
      total += summary.runs();
      violations += summary.failure().isPresent() ? 1 : 0;
    }
    int scenarioRuns = Math.max(5, runs / 50);
    violations += scenario("staging", scenarioRuns, seeds.nextLong(), StagingProperty.staging()::run);
    violations += scenario("cluster (3 nodes)", scenarioRuns, seeds.nextLong(), ClusterSimulation::run);
    violations += scenario("dependency waves", scenarioRuns, seeds.nextLong(), WaveProperty.waves()::run);
    violations += scenario("event sources", runs, seeds.nextLong(), EventSourceProperty.eventSources()::run);
    total += 3 * scenarioRuns + runs; // an event-source run takes about a millisecond
    int caught = 0;
    List<Canary> canaries = Canary.all();
    for (Canary canary : canaries) {
      Canary.Hunt hunt = canary.hunt(seeds.nextLong(), CANARY_BUDGET);
      out.println("  canary " + hunt);
      caught += hunt.caught() ? 1 : 0;
    }
    double perMinute = PropertyRunner.simulatedRunsPerMinute(CacheModel.clientCache(), 3, Duration.ofSeconds(3));
    out.printf("  throughput: %.0f simulated runs per minute of the cache property with 3-branch programs%n",
        perMinute);
    out.printf("explore: %d runs, %d violations, canaries %d/%d caught%n", total, violations, caught,
        canaries.size());
    return new Result(total, violations, caught, canaries.size());
  }

  private interface Scenario {
    List<String> run(long seed) throws Exception;
  }

  private int scenario(String name, int runs, long seed, Scenario scenario) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    long start = System.nanoTime();
    for (int i = 0; i < runs; i++) {
      long runSeed = random.nextLong();
      List<String> violations = scenario.run(runSeed);
      if (!violations.isEmpty()) {
        out.println("  " + name + ": FAILED at run seed " + runSeed + ": " + violations);
        return 1;
      }
    }
    out.printf("  %s: %d runs, seed %d, %d ms, passed%n", name, runs, seed,
        (System.nanoTime() - start) / 1_000_000);
    return 0;
  }
}
