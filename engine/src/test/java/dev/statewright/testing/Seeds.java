package dev.statewright.testing;

import java.util.SplittableRandom;

/**
 * Seeds for randomised tests: {@code -Dstatewright.seed=N} replays one; otherwise a fresh seed is
 * drawn. Every use prints the seed and how to replay it.
 */
public final class Seeds {
  private Seeds() { }

  /** A seeded generator for {@code test}, announcing its seed. */
  public static SplittableRandom random(String test) {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println(test + ": seed=" + seed + " (replay with -Dstatewright.seed=" + seed + ")");
    return new SplittableRandom(seed);
  }
}
