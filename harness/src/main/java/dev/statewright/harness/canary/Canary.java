package dev.statewright.harness.canary;

import dev.statewright.harness.cache.WaveProperty;
import dev.statewright.harness.event.EventSourceProperty;
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
  private final List<String> catches;
  private final Probe probe;

  /** One run of the property against the canary: the violations it saw. */
  @FunctionalInterface
  interface Probe {
    List<String> run(long seed) throws Exception;
  }

  private final Model<?, ?> model;

  private Canary(String name, String bug, List<String> catches, Probe probe, Model<?, ?> model) {
    this.catches = List.copyOf(catches);
    this.model = model;
    this.name = name;
    this.bug = bug;
    this.probe = probe;
  }

  /**
   * A cache canary run through {@code model}; {@code catches} are the violation prefixes that
   * report its bug ({@code "C5:"}, {@code "not linearizable"}, …): another violation does not count.
   */
  static Canary ofModel(String name, String bug, Model<?, ?> model, String... catches) {
    Settings simulated = Settings.defaults().simulatedOnly();
    return new Canary(name, bug, List.of(catches),
        seed -> PropertyRunner.runOnce(model, seed, simulated).violations(), model);
  }

  /** A staging canary run through {@code property}, caught only by the prefixes {@code catches}. */
  static Canary ofScenario(String name, String bug, StagingProperty property, String... catches) {
    return new Canary(name, bug, List.of(catches), property::run, null);
  }

  /**
   * A rebuild-wave canary run through {@code property}, caught only by the prefixes {@code catches}.
   *
   * @param name the canary's name, as explore prints it
   * @param bug what the broken variant gets wrong
   * @param property the wave scenario that runs it
   * @param catches prefixes of the violations that count as catching it
   * @return the canary
   */
  static Canary ofWave(String name, String bug, WaveProperty property, String... catches) {
    return new Canary(name, bug, List.of(catches), property::run, null);
  }

  /**
   * An event-source canary run through {@code property}, caught only by the prefixes
   * {@code catches}.
   *
   * @param name the canary's name, as explore prints it
   * @param bug what the broken variant gets wrong
   * @param property the event-source scenario that runs it
   * @param catches prefixes of the violations that count as catching it
   * @return the canary
   */
  static Canary ofEvents(String name, String bug, EventSourceProperty property, String... catches) {
    return new Canary(name, bug, List.of(catches), property::run, null);
  }

  /**
   * Every canary: the cache's bug classes (safety, liveness, waves), staging's and the event
   * sources'.
   *
   * @return an immutable list, a fresh set of canaries on each call, in that order
   */
  public static List<Canary> all() {
    return java.util.stream.Stream.of(CacheCanaries.all(), LivenessCanaries.all(),
            WaveCanaries.all(), StagingCanaries.all(), EventSourceCanaries.all())
        .flatMap(List::stream).toList();
  }

  /**
   * The property model of the cache canary {@code name}, to run it through the full runner.
   *
   * @param name the canary's name, as {@link #name()} gives it
   * @return the model whose implementation carries the canary's bug
   * @throws IllegalArgumentException if no cache canary has that name (a staging canary has no
   *     model)
   */
  public static Model<?, ?> cacheModel(String name) {
    return all().stream().filter(c -> c.name.equals(name) && c.model != null).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no cache canary named " + name)).model;
  }

  /**
   * The canary's name.
   *
   * @return the name hunt reports and {@link #cacheModel} use
   */
  public String name() {
    return name;
  }

  /**
   * The violation prefixes that count as catching it.
   *
   * @return an immutable list of prefixes, as {@code "C5:"}; a violation starting with none of
   *     them does not catch the canary
   */
  public List<String> catches() {
    return catches;
  }

  /**
   * The bug class it reproduces.
   *
   * @return a one-line description of the deliberate bug, for reports
   */
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

  /**
   * Runs the property against the canary, seeded, until a run reports a violation of the
   * invariant the canary breaks, or the budget is spent.
   *
   * @param seed the master seed; each run's seed is drawn from it, so a hunt replays exactly
   * @param maxRuns the budget: the most runs to make before reporting the canary missed
   * @return what the hunt found; when missed, {@code runs} is {@code maxRuns}, the evidence is
   *     empty and the run seed is 0
   * @throws Exception if a run of the property throws rather than reporting violations
   */
  public Hunt hunt(long seed, int maxRuns) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    long start = System.nanoTime();
    for (int run = 1; run <= maxRuns; run++) {
      long runSeed = random.nextLong();
      for (String violation : probe.run(runSeed)) {
        if (catches.stream().anyMatch(violation::startsWith)) {
          return new Hunt(name, true, run, (System.nanoTime() - start) / 1_000_000, violation, runSeed);
        }
      }
    }
    return new Hunt(name, false, maxRuns, (System.nanoTime() - start) / 1_000_000, "", 0);
  }
}
