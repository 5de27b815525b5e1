package dev.statewright.harness.demo;

import dev.statewright.harness.explore.Exploration;
import java.io.PrintStream;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The main job: the repository scenario, the bundle scenario, the client-lifecycle scenes
 * (superseded leases, reported failures, generations), then (optionally) a short
 * exploration by the harness, one tally of checks. The last line is
 * {@code demo: N checks passed, F failed}.
 */
public final class Demo {
  private static final Logger ENGINE = Logger.getLogger("dev.statewright");

  private Demo() { }

  /**
   * Runs both scenarios in a temporary folder, and the exploration if asked.
   *
   * @param out where the timeline goes
   * @param explore whether to explore afterwards
   * @return the number of failed checks
   * @throws Exception if a scenario cannot run at all
   */
  public static int run(PrintStream out, boolean explore) throws Exception {
    Objects.requireNonNull(out, "out");
    ENGINE.setLevel(Level.SEVERE); // the timeline shows what the engine's WARNINGs would say
    Checks checks = new Checks(out);
    try (Workspace workspace = Workspace.create()) {
      new RepositoryDemo(out, checks, workspace.root).run();
      new BundleDemo(out, checks, workspace.root).run();
      new SupersededLeaseScene(out, checks).run();
      new InvalidationScene(out, checks).run();
      new GenerationScene(out, checks).run();
      new WaveDemo(out, checks).run();
      new ExpiringCredentialsScene(out, checks).run();
      new ReconfigureScene(out, checks).run();
    }
    if (explore) {
      out.println();
      out.println("== The harness explores both lifecycles and hunts its canaries ==");
      Exploration.Result found = new Exploration(out).run(300, new SplittableRandom().nextLong());
      checks.check("C*", "simulated and real-thread runs found no violation of C1-C9 or S1-S5",
          found.violations() == 0, found.runs() + " runs");
      checks.check("--", "the harness still finds bugs: every canary caught",
          found.caught() == found.canaries(), found.caught() + "/" + found.canaries());
    }
    out.printf("demo: %d checks passed, %d failed%n", checks.passed(), checks.failed());
    return checks.failed();
  }
}
