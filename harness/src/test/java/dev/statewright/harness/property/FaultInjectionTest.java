package dev.statewright.harness.property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryState;
import dev.statewright.harness.cache.CacheMonitor;
import dev.statewright.harness.cache.RealCache;
import dev.statewright.harness.cache.SimClient;
import dev.statewright.harness.cache.SimFactory;
import dev.statewright.harness.cache.SimSpec;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** C7 through the harness: a build that fails N times then succeeds keeps the last client, then recovers. */
class FaultInjectionTest {
  @Test
  void failingThreeTimesThenSucceedingKeepsTheLastClientAndRecoversWithBackoff() throws Exception {
    SimulatedScheduler scheduler = new SimulatedScheduler(5, Strategy.random());
    CacheMonitor monitor = new CacheMonitor(2, true);
    SimFactory factory = new SimFactory(scheduler, monitor, Duration.ofMillis(100));
    ClientCache<String, SimSpec, SimClient> cache = ClientCache.asyncBuilder(factory)
        .scheduler(scheduler).build();
    monitor.watch(new RealCache(cache), List.of("k"));
    scheduler.afterEachStep(monitor::afterStep);

    cache.upsert("k", new SimSpec(1), 1);
    scheduler.run(Duration.ofMinutes(1), 10_000);
    factory.failNext(3);
    cache.upsert("k", new SimSpec(2), 2);
    scheduler.runReady(1_000);
    scheduler.run(Duration.ofMillis(150), 10_000);

    var failing = cache.snapshot("k").orElseThrow();
    assertEquals(EntryState.STALE, failing.state());
    assertEquals(1, failing.servedVersion().getAsLong(), "the last good client stays served");
    assertTrue(failing.lastError().isPresent() && failing.nextRetryNanos().isPresent());

    scheduler.run(Duration.ofMinutes(5), 100_000);
    var recovered = cache.snapshot("k").orElseThrow();
    assertEquals(EntryState.CURRENT, recovered.state());
    assertEquals(2, recovered.servedVersion().getAsLong());
    assertTrue(recovered.lastError().isEmpty());
    assertEquals(List.of(), monitor.finish(List.of("k")));
  }
}
