package dev.statewright.harness.cache;

import java.util.EnumMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * How hostile one run's user code is: the share of each {@link BuildShape} among factory calls,
 * how often the listener throws (and whether an {@link Error}), how often the source's start
 * throws, and whether the factory blocks a worker (then only synchronous shapes). Drawn once per
 * run from the run's scheduler, so a run seed replays it.
 *
 * @param shapes the weight of each build shape
 * @param listenerThrows the share of listener calls that throw
 * @param listenerErrors whether the listener throws Errors rather than RuntimeExceptions
 * @param failedStarts how many of the source's first starts throw (a RuntimeException, then an Error)
 * @param blocking whether the factory is a blocking {@code ClientFactory}
 * @param listenerReenters the share of transitions on which the listener calls back into the cache
 * @param closerThrows whether the closer throws (after closing) as the listener would, instead of the listener
 */
public record Hostility(Map<BuildShape, Double> shapes, double listenerThrows, boolean listenerErrors,
    int failedStarts, boolean blocking, double listenerReenters, boolean closerThrows) {

  /**
   * A hostility whose listener never calls back into the cache and whose closer never throws.
   *
   * @param shapes the weight of each build shape
   * @param listenerThrows the share of listener calls that throw
   * @param listenerErrors whether the listener throws Errors rather than RuntimeExceptions
   * @param failedStarts how many of the source's first starts throw
   * @param blocking whether the factory is a blocking {@code ClientFactory}
   */
  public Hostility(Map<BuildShape, Double> shapes, double listenerThrows, boolean listenerErrors,
      int failedStarts, boolean blocking) {
    this(shapes, listenerThrows, listenerErrors, failedStarts, blocking, 0, false);
  }

  /**
   * Well-mannered: every build completes later, nothing throws.
   *
   * @return the calm hostility, which draws nothing from a run's generator
   */
  public static Hostility calm() {
    return new Hostility(Map.of(BuildShape.LATER, 1.0), 0, false, 0, false);
  }

  /**
   * This run's settle time: well-mannered builds for the same kind of factory. A blocking factory
   * stays blocking and completes at once (it cannot wait in a simulation); handing it
   * {@link #calm()}'s later builds made every call return null while the client appeared later,
   * unseen by the cache (run seed -1580351208065249759 of the mixed liveness property).
   *
   * @return the settle time's hostility: none, with this run's kind of factory
   */
  public Hostility calmed() {
    return blocking ? new Hostility(Map.of(BuildShape.AT_ONCE, 1.0), 0, false, 0, true) : calm();
  }

  /**
   * Builds that complete, fail or throw (exceptions only) at once, async or blocking.
   *
   * @param random the run's generator, so a run seed replays the draw
   * @return the drawn hostility; a blocking factory one time in four
   */
  public static Hostility synchronousBuilds(RandomGenerator random) {
    return new Hostility(weights(BuildShape.LATER, 0.2, BuildShape.AT_ONCE, 1.0, BuildShape.FAILS_AT_ONCE,
        random.nextDouble() < 0.5 ? 0.5 : 0.0, BuildShape.THROWS, random.nextDouble() < 0.3 ? 0.2 : 0.0),
        0, false, 0, random.nextDouble() < 0.25);
  }

  /**
   * Well-mannered builds, mostly synchronous, and a listener that throws, exceptions or Errors.
   *
   * @param random the run's generator, so a run seed replays the draw
   * @return the drawn hostility: 5% of listener calls throw, Errors half the time
   */
  public static Hostility throwingListeners(RandomGenerator random) {
    return new Hostility(weights(BuildShape.LATER, 0.5, BuildShape.AT_ONCE, 0.5), 0.05,
        random.nextBoolean(), 0, false);
  }

  /**
   * Factories that call back into the cache (upsert, delete, close, acquire) from build().
   *
   * @param random the run's generator, so a run seed replays the draw
   * @return the drawn hostility; a blocking factory one time in four
   */
  public static Hostility reentrantFactories(RandomGenerator random) {
    return new Hostility(weights(BuildShape.LATER, 0.3, BuildShape.AT_ONCE, 0.5, BuildShape.REENTRANT, 0.2),
        0, false, 0, random.nextDouble() < 0.25);
  }

  /**
   * Closers that throw, exceptions or Errors, after closing (the listener's share and kind).
   *
   * @param random the run's generator, so a run seed replays the draw
   * @return the drawn hostility: 20% of closes throw, Errors half the time
   */
  public static Hostility throwingClosers(RandomGenerator random) {
    return new Hostility(weights(BuildShape.LATER, 0.5, BuildShape.AT_ONCE, 0.5), 0.2, random.nextBoolean(),
        0, random.nextDouble() < 0.25, 0, true);
  }

  /**
   * A listener that calls back into the cache (upsert, delete, close, acquire) on transitions.
   *
   * @param random the run's generator, so a run seed replays the draw
   * @return the drawn hostility: the listener calls back on 5% of transitions
   */
  public static Hostility reentrantListeners(RandomGenerator random) {
    return new Hostility(weights(BuildShape.LATER, 0.5, BuildShape.AT_ONCE, 0.5), 0, false, 0,
        random.nextDouble() < 0.25, 0.05, false);
  }

  /**
   * Factories that throw or fail with Errors, and a source whose starts throw.
   *
   * @param random the run's generator, so a run seed replays the draw
   * @return the drawn hostility, with up to two failed source starts
   */
  public static Hostility errors(RandomGenerator random) {
    return new Hostility(weights(BuildShape.LATER, 0.4, BuildShape.AT_ONCE, 0.3, BuildShape.THROWS_ERROR,
        0.15, BuildShape.FAILS_WITH_ERROR, 0.15), 0, false, random.nextInt(3), random.nextDouble() < 0.25);
  }

  /**
   * Builds that complete later or at once; nothing throws.
   *
   * @param random the run's generator, so a run seed replays the draw
   * @return the hostility; nothing is drawn from {@code random}
   */
  public static Hostility mannered(RandomGenerator random) {
    return new Hostility(weights(BuildShape.LATER, 0.5, BuildShape.AT_ONCE, 0.5), 0, false, 0, false);
  }

  private static Map<BuildShape, Double> weights(Object... shapeThenWeight) {
    Map<BuildShape, Double> shapes = new EnumMap<>(BuildShape.class);
    for (int i = 0; i < shapeThenWeight.length; i += 2) {
      shapes.put((BuildShape) shapeThenWeight[i], (Double) shapeThenWeight[i + 1]);
    }
    return shapes;
  }

  /**
   * One of the hostile profiles, every kind mixed, drawn from {@code random}.
   *
   * @param random the run's generator, so a run seed replays the draw
   * @return the drawn hostility
   */
  public static Hostility draw(RandomGenerator random) {
    Map<BuildShape, Double> shapes = new EnumMap<>(BuildShape.class);
    shapes.put(BuildShape.LATER, 0.2);
    shapes.put(BuildShape.AT_ONCE, random.nextDouble() < 0.6 ? 2.0 : 0.1);
    shapes.put(BuildShape.FAILS_AT_ONCE, random.nextDouble() < 0.4 ? 1.0 : 0.05);
    shapes.put(BuildShape.THROWS, random.nextDouble() < 0.3 ? 0.3 : 0.0);
    shapes.put(BuildShape.THROWS_ERROR, random.nextDouble() < 0.3 ? 0.1 : 0.0);
    shapes.put(BuildShape.FAILS_WITH_ERROR, random.nextDouble() < 0.3 ? 0.1 : 0.0);
    shapes.put(BuildShape.REENTRANT, random.nextDouble() < 0.3 ? 0.1 : 0.0);
    boolean listener = random.nextDouble() < 0.3;
    return new Hostility(shapes, listener ? 0.05 : 0, listener && random.nextBoolean(),
        random.nextDouble() < 0.3 ? 1 + random.nextInt(2) : 0, random.nextDouble() < 0.25);
  }

  /** The shape of the next build, drawn from {@code random}; only synchronous ones if blocking. */
  BuildShape nextShape(RandomGenerator random) {
    if (shapes.size() == 1 && !blocking) {
      return shapes.keySet().iterator().next(); // calm runs draw nothing: their seeds replay as before
    }
    double total = 0;
    for (var e : shapes.entrySet()) {
      total += allowed(e.getKey()) ? e.getValue() : 0;
    }
    double dice = random.nextDouble() * total;
    for (var e : shapes.entrySet()) {
      double weight = allowed(e.getKey()) ? e.getValue() : 0;
      if (dice < weight) {
        return e.getKey();
      }
      dice -= weight;
    }
    return blocking ? BuildShape.AT_ONCE : BuildShape.LATER;
  }

  private boolean allowed(BuildShape shape) {
    return !blocking || shape.synchronous();
  }

  @Override
  public String toString() {
    return "hostility" + shapes + (listenerThrows > 0 ? ", listener throws " + (listenerErrors ? "Errors" : "exceptions") : "")
        + (failedStarts > 0 ? ", source start throws " + failedStarts + "x" : "") + (blocking ? ", blocking factory" : "")
        + (listenerReenters > 0 ? ", listener calls back" : "") + (closerThrows ? ", in the closer" : "");
  }
}
