package dev.statewright.harness.cache;

import dev.statewright.cache.CacheListener;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.lifecycle.Transition;
import java.util.List;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * A listener that throws on a share of its calls, a RuntimeException or a
 * {@link StackOverflowError}, and calls back into the cache on a share of transitions, as the
 * run's {@link Hostility} says. Simulation only: it draws from
 * the scheduler's random generator, so the run seed replays it. Made by the liveness property, it
 * reports every call to the run's {@link CacheMonitor} first, which checks that no build whose
 * call returned holds a permit while it runs ({@code callbacks:}).
 */
public final class HostileListener implements CacheListener<String> {
  private final Hostility hostility;
  private final RandomGenerator random;
  private final CacheMonitor monitor; // null: no callback is checked
  private volatile boolean calm;
  private volatile Consumer<String> reentry = key -> { };
  private boolean reentering; // simulation only: one thread

  /**
   * Throws as {@code hostility} says, drawing from {@code random}.
   *
   * @param hostility how often to throw and call back, and whether with Errors
   * @param random the run's generator, so a run seed replays the throws
   */
  public HostileListener(Hostility hostility, RandomGenerator random) {
    this(hostility, random, null);
  }

  /** The same, each call checked by {@code monitor} first (permits held through callbacks). */
  HostileListener(Hostility hostility, RandomGenerator random, CacheMonitor monitor) {
    this.hostility = hostility;
    this.random = random;
    this.monitor = monitor;
  }

  /**
   * What the listener calls on the cache, from inside a transition of {@code key}.
   *
   * @param reentry the call back into the cache, given the key; replaces the previous one
   */
  public void reenter(Consumer<String> reentry) {
    this.reentry = reentry;
  }

  /** From now on, never throws nor calls back (the settle time). */
  public void calm() {
    calm = true;
  }

  /**
   * Throws, sometimes, where {@code where} is the callback (a listener's, or the closer when it is
   * the one that throws).
   *
   * @param where the callback's name, in the thrown message; {@code "closer"} for the closer
   */
  public void maybeThrow(String where) {
    if (calm || hostility.listenerThrows() == 0 || hostility.closerThrows() != where.equals("closer") || random.nextDouble() >= hostility.listenerThrows()) {
      return;
    }
    if (hostility.listenerErrors()) {
      throw new StackOverflowError("injected Error from the listener's " + where);
    }
    throw new IllegalStateException("injected failure of the listener's " + where);
  }

  @Override
  public void onTransition(String key, Transition<EntryState, EntryEvent> transition) {
    if (monitor != null) {
      monitor.toldTransition(key, transition);
    }
    maybeReenter(key);
    maybeThrow("onTransition");
  }

  /** Calls back into the cache, sometimes; never from inside such a call. */
  private void maybeReenter(String key) {
    if (calm || reentering || hostility.listenerReenters() == 0
        || random.nextDouble() >= hostility.listenerReenters()) {
      return;
    }
    reentering = true;
    try {
      reentry.accept(key);
    } finally {
      reentering = false;
    }
  }

  @Override
  public void onBuildStarted(String key, long version) {
    if (monitor != null) {
      monitor.toldBuildStarted(key);
    }
    maybeThrow("onBuildStarted");
  }

  @Override
  public void onBuildFinished(String key, long version, long nanos, Throwable error) {
    if (monitor != null) {
      monitor.toldBuildFinished(key, error);
    }
    maybeThrow("onBuildFinished");
  }

  @Override
  public void onClientReleased(String key, long version) {
    told("onClientReleased", key);
    maybeThrow("onClientReleased");
  }

  @Override
  public void onRejected(String key, Exception problem) {
    told("onRejected", key);
    maybeThrow("onRejected");
  }

  @Override
  public void onLeasesPinned(String key, long version, List<String> holders) {
    told("onLeasesPinned", key);
  }

  private void told(String callback, String key) {
    if (monitor != null) {
      monitor.told(callback, key);
    }
  }
}
