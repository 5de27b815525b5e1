package dev.statewright.harness.cli;

import dev.statewright.harness.demo.Demo;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * The command line: {@code demo} runs the end-to-end demonstration. Exits non-zero when a check
 * fails or the command is unknown.
 */
public final class Statewright {
  private Statewright() { }

  /** Entry point. */
  public static void main(String[] args) throws Exception {
    int status = run(args, System.out, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    String command = args.length == 0 ? "demo" : args[0];
    switch (command) {
      case "demo":
        return Demo.run(out) == 0 ? 0 : 1;
      default:
        err.println("unknown command '" + command + "' (args " + Arrays.toString(args)
            + "); usage: statewright demo");
        return 2;
    }
  }
}
