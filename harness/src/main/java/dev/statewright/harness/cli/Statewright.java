package dev.statewright.harness.cli;

import dev.statewright.harness.cache.CacheModel;
import dev.statewright.harness.demo.Demo;
import dev.statewright.harness.explore.Exploration;
import dev.statewright.harness.property.PropertyRunner;
import java.io.PrintStream;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The command line.
 *
 * <pre>
 * statewright demo                        the end-to-end demonstration, then a short exploration
 * statewright explore [--runs N] [--seed S]  properties, multi-node simulation, canaries
 * statewright replay --seed N [--faults]  one cache-property run in full: program, history, steps
 * </pre>
 *
 * Exits non-zero when a check fails, a violation is found, a canary is missed, or the command is
 * not understood.
 */
public final class Statewright {
  private static final String USAGE = "usage: statewright demo | explore [--runs N] [--seed S]"
      + " | replay --seed N [--faults]";

  private static final Logger ENGINE = Logger.getLogger("dev.statewright");

  private Statewright() { }

  /**
   * Entry point.
   *
   * @param args the command and its options
   * @throws Exception if a command cannot run at all
   */
  public static void main(String[] args) throws Exception {
    Objects.requireNonNull(args, "args");
    int status = run(args, System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    ENGINE.setLevel(Level.SEVERE); // runs provoke failures on purpose; reports say what matters
    String command = args.length == 0 ? "demo" : args[0];
    try {
      switch (command) {
        case "demo":
          return Demo.run(out, true) == 0 ? 0 : 1;
        case "explore":
          return new Exploration(out).run(intOption(args, "--runs", 2_000),
              longOption(args, "--seed", new SplittableRandom().nextLong())).clean() ? 0 : 1;
        case "replay":
          CacheModel model = hasFlag(args, "--faults") ? CacheModel.clientCacheWithFaults()
              : CacheModel.clientCache();
          out.print(PropertyRunner.replay(model, longOption(args, "--seed", null)));
          return 0;
        default:
          err.println("unknown command '" + command + "'; " + USAGE);
          return 2;
      }
    } catch (IllegalArgumentException badOption) {
      err.println(badOption.getMessage() + "; " + USAGE);
      return 2;
    }
  }

  private static boolean hasFlag(String[] args, String flag) {
    for (String arg : args) {
      if (arg.equals(flag)) {
        return true;
      }
    }
    return false;
  }

  private static String option(String[] args, String name) {
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals(name)) {
        if (i + 1 == args.length) {
          throw new IllegalArgumentException(name + " needs a value");
        }
        return args[i + 1];
      }
    }
    return null;
  }

  private static int intOption(String[] args, String name, int fallback) {
    String value = option(args, name);
    try {
      return value == null ? fallback : Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " takes a whole number, got '" + value + "'");
    }
  }

  private static long longOption(String[] args, String name, Long fallback) {
    String value = option(args, name);
    if (value == null) {
      if (fallback == null) {
        throw new IllegalArgumentException(name + " is required");
      }
      return fallback;
    }
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " takes a whole number, got '" + value + "'");
    }
  }
}
