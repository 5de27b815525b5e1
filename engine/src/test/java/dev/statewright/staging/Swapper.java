package dev.statewright.staging;

import java.io.IOException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An attacker on its own thread: flips part of a tree back and forth (a directory and a link, a
 * file and a FIFO) with seeded pauses, until closed. Closing joins the thread and rethrows what
 * it failed with, so its assertions reach the test thread.
 */
final class Swapper implements AutoCloseable {
  /** One flip; {@code toAttack} says which way. */
  @FunctionalInterface
  interface Flip {
    void flip(boolean toAttack) throws IOException;
  }

  private final Thread thread;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean stop;
  private volatile int flips;

  /** Starts flipping; a flip that throws an IOException is tried again if {@code tolerant}. */
  Swapper(String name, long seed, boolean tolerant, Flip flip) {
    SplittableRandom random = new SplittableRandom(seed);
    this.thread = new Thread(() -> {
      boolean attack = true;
      try {
        while (!stop) {
          try {
            flip.flip(attack);
            attack = !attack;
            flips++;
          } catch (IOException e) {
            if (!tolerant) {
              throw e;
            }
          }
          spin(random.nextInt(2_000));
        }
      } catch (Throwable t) {
        failure.set(t);
      }
    }, name);
    thread.start();
  }

  private static void spin(int rounds) {
    for (int i = 0; i < rounds; i++) {
      Thread.onSpinWait();
    }
  }

  /** Waits (spinning: it is a matter of microseconds) until the attacker has flipped once. */
  Swapper started() {
    while (flips == 0 && thread.isAlive()) {
      Thread.onSpinWait();
    }
    return this;
  }

  int flips() {
    return flips;
  }

  @Override
  public void close() throws TimeoutException {
    stop = true;
    try {
      thread.join(TimeUnit.MINUTES.toMillis(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while joining " + thread.getName(), e);
    }
    if (thread.isAlive()) {
      throw new TimeoutException(thread.getName() + " did not stop within a minute");
    }
    if (failure.get() != null) {
      throw new AssertionError(thread.getName() + " failed", failure.get());
    }
  }
}
