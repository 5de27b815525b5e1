package dev.statewright.harness.demo;

import java.io.PrintStream;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The main job: the repository scenario, then the bundle scenario, one tally of checks. The last
 * line is {@code demo: N checks passed, F failed}.
 */
public final class Demo {
  private static final Logger ENGINE = Logger.getLogger("dev.statewright");

  private Demo() { }

  /** Runs both scenarios in a temporary folder; returns how many checks failed. */
  public static int run(PrintStream out) throws Exception {
    ENGINE.setLevel(Level.SEVERE); // the timeline shows what the engine's WARNINGs would say
    Checks checks = new Checks(out);
    try (Workspace workspace = Workspace.create()) {
      new RepositoryDemo(out, checks, workspace.root).run();
      new BundleDemo(out, checks, workspace.root).run();
    }
    out.printf("demo: %d checks passed, %d failed%n", checks.passed(), checks.failed());
    return checks.failed();
  }
}
