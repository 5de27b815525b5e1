package dev.statewright.canary;

import java.util.concurrent.CompletableFuture;

/** Breaks every engine rule on purpose, so {@code ArchitectureCanaryTest} can prove they bite. */
public final class RuleBreaker {
  private RuleBreaker() { }

  /** Sleeps, spawns a thread, reads the wall clock, prints, and runs async work on the common pool. */
  public static long breakEverything() throws InterruptedException {
    Thread.sleep(1);
    new Thread(() -> { }).start();
    System.out.println("hello");
    CompletableFuture.runAsync(() -> { });
    return System.currentTimeMillis();
  }
}
