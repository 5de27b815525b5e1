package dev.statewright.harness.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The field flake: on a loaded machine the "client cache" property, on real threads (100 ms
 * build timeout), reported {@code upsert(k1, v2) -> failed: TimeoutException} as a violation,
 * although a build that exceeds the timeout counts as failed (C7) and its upsert fails with the
 * build's error (C4). Here the same wiring runs on a simulated scheduler, and the factory delays
 * a build that does not hang past the timeout, as a loaded machine does: the property accepts
 * the failed upsert because the factory saw that build given up; an upsert that fails so
 * without any build given up is still a violation.
 */
class SlowBuildTimeoutRegressionTest {
  private final long seed = Optional.ofNullable(System.getProperty("statewright.seed")).map(Long::parseLong)
      .orElseGet(() -> new SplittableRandom().nextLong());
  private final SimulatedScheduler scheduler = new SimulatedScheduler(seed, Strategy.random());
  private final CacheMonitor monitor = new CacheMonitor(CacheModel.MAX_BUILDS, true);
  private final SimFactory factory = new SimFactory(scheduler, monitor, Duration.ofMillis(2));

  SlowBuildTimeoutRegressionTest() {
    factory.buildTimeout(Duration.ofMillis(100)); // the real-thread wiring's, for the witness
    System.out.println("SlowBuildTimeoutRegressionTest: seed=" + seed + " (replay with -Dstatewright.seed="
        + seed + ")");
  }

  /** The real-thread wiring (simulated = false: 100 ms build timeout) on the simulated scheduler. */
  private CacheModel.Wired wire(CacheUnderTest cache) {
    monitor.watch(cache, CacheModel.KEYS);
    scheduler.afterEachStep(monitor::afterStep);
    return new CacheModel.Wired(cache, monitor, factory, scheduler);
  }

  private CacheUnderTest realCache() {
    return RealCache.build(new CacheModel.Wiring(scheduler, factory, CacheModel.MAX_BUILDS, false));
  }

  /** Runs {@code command} on the simulation until it answers (or time runs out). */
  private Object run(CacheModel.Wired system, CacheModel.Upsert command) {
    CompletableFuture<Object> result = new CompletableFuture<>();
    scheduler.execute(() -> command.run(system).thenAccept(result::complete));
    scheduler.run(Duration.ofSeconds(10), 100_000);
    assertTrue(result.isDone(), command + " did not answer (seed " + seed + ")");
    return result.join();
  }

  private static Optional<CacheModel.State> judged(CacheModel.State state, CacheModel.Upsert upsert,
      Object result) {
    return upsert.apply(state, result);
  }

  @Test
  void anUpsertWhoseSlowBuildTimedOutFailsWithTheBuildAndTheOldClientStaysServed()
      throws InterruptedException {
    CacheModel.Wired system = wire(realCache());
    CacheModel.Upsert first = new CacheModel.Upsert("k1", 1, false);
    CacheModel.Upsert second = new CacheModel.Upsert("k1", 2, false);
    assertEquals("ok", run(system, first), "seed " + seed);
    CacheModel.State state = judged(new CacheModel.State(Map.of()), first, "ok").orElseThrow();

    factory.delay(Duration.ofMillis(150)); // slow, not hung: past the 100 ms build timeout
    Object result = run(system, second);

    assertEquals(CacheModel.BUILD_GIVEN_UP, result, "seed " + seed);
    assertTrue(judged(state, second, result).isPresent(), second + " -> " + result
        + " is a failed build the model allows (seed " + seed + ")");
    assertEquals(1, system.cache.view("k1").orElseThrow().servedVersion(),
        "the last good client stays served (C7), seed " + seed);
    factory.delay(Duration.ZERO); // the load passes: a retry serves v2
    scheduler.run(Duration.ofMinutes(1), 100_000);
    assertEquals(2, system.cache.view("k1").orElseThrow().servedVersion(), "seed " + seed);
    assertEquals(List.of(), monitor.finish(CacheModel.KEYS), "seed " + seed);
  }

  @Test
  void anUpsertThatReportsATimeoutWithoutABuildGivenUpIsStillAViolation() {
    CacheUnderTest real = realCache();
    CacheModel.Wired system = wire(new FailsAfterServing(real, 2));
    CacheModel.Upsert first = new CacheModel.Upsert("k1", 1, false);
    CacheModel.Upsert second = new CacheModel.Upsert("k1", 2, false);
    assertEquals("ok", run(system, first), "seed " + seed);
    CacheModel.State state = judged(new CacheModel.State(Map.of()), first, "ok").orElseThrow();

    Object result = run(system, second);

    assertEquals("failed: TimeoutException", result, "seed " + seed);
    assertEquals(Optional.empty(), judged(state, second, result), "seed " + seed);
  }

  @Test
  void aBuildGivenUpOfAnotherKeyOrAnOlderVersionExcusesNothing() {
    CacheModel.Wired system = wire(new FailsAfterServing(realCache(), 3));
    factory.delay(Duration.ofMillis(150));
    assertEquals(CacheModel.BUILD_GIVEN_UP, run(system, new CacheModel.Upsert("k2", 1, false)),
        "seed " + seed); // a build of k2 given up
    assertEquals(CacheModel.BUILD_GIVEN_UP, run(system, new CacheModel.Upsert("k1", 1, false)),
        "seed " + seed); // a build of k1 v1 given up; its retries keep timing out meanwhile
    factory.delay(Duration.ZERO);
    scheduler.run(Duration.ofMinutes(1), 100_000);

    CacheModel.Upsert third = new CacheModel.Upsert("k1", 3, false);
    Object result = run(system, third); // served, then reported as a timeout by the broken cache

    assertEquals("failed: TimeoutException", result, "seed " + seed);
    CacheModel.State state = new CacheModel.State(Map.of("k1", new CacheModel.KeyState(1, true)));
    assertEquals(Optional.empty(), judged(state, third, result), "seed " + seed);
  }

  /** The engine's cache, but an upsert of {@code version} reports a build timeout once served. */
  private static final class FailsAfterServing extends ForwardingCache {
    private final long version;

    FailsAfterServing(CacheUnderTest cache, long version) {
      super(cache);
      this.version = version;
    }

    @Override
    public java.util.concurrent.CompletionStage<Object> upsert(String key, long v) {
      return super.upsert(key, v).thenApply(r -> "ok".equals(r) && v == version ? "failed: TimeoutException" : r);
    }
  }
}
