package dev.statewright.harness.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The mixed liveness property's failure on run seed -1580351208065249759 ("permits: 1 builds
 * running on 0 permits", "C3: a finished build of b782 v3 was not served") was the harness's:
 * the settle time handed a blocking factory {@link Hostility#calm()}'s later builds, so each call
 * returned null to the cache while its client appeared later, seen by the monitors only. The
 * settle time now keeps the factory's kind, and a blocking call given a later shape is a
 * violation of its own instead of a silent null.
 */
class BlockingFactorySettleRegressionTest {

  @Test
  void aBlockingFactoryStaysBlockingAndSynchronousWhenTheRunSettles() {
    SplittableRandom random = new SplittableRandom(20261125);
    int blocking = 0;
    for (int run = 0; run < 200; run++) {
      Hostility drawn = Hostility.draw(random);
      Hostility settled = drawn.calmed();
      assertEquals(drawn.blocking(), settled.blocking(), drawn.toString());
      assertEquals(0.0, settled.listenerThrows(), drawn.toString());
      for (int call = 0; call < 50; call++) {
        BuildShape shape = settled.nextShape(random);
        assertTrue(drawn.blocking() ? shape == BuildShape.AT_ONCE : shape == BuildShape.LATER,
            drawn + " settles to " + shape);
      }
      blocking += drawn.blocking() ? 1 : 0;
    }
    assertTrue(blocking > 20 && blocking < 180, "both kinds of factory were drawn: " + blocking);
  }

  @Test
  void aBlockingCallGivenALaterShapeIsReportedNotReturnedAsNull() throws Exception {
    SimulatedScheduler scheduler = new SimulatedScheduler(1, Strategy.random());
    CacheMonitor monitor = new CacheMonitor(1, true);
    SimFactory factory = new SimFactory(scheduler, monitor, Duration.ofMillis(20));
    factory.hostility(Hostility.calm()); // later builds: wrong for a blocking call
    assertNull(factory.buildBlocking("b1", new SimSpec(3)));
    monitor.watch(new RealCache(dev.statewright.cache.ClientCache
        .<String, SimSpec, SimClient>builder((k, s) -> null).build()), List.of());
    List<String> seen = monitor.finish(List.of());
    assertTrue(seen.contains("harness: a blocking factory call of b1 v3 was given a shape that"
        + " completes later, so it returned nothing"), seen.toString());
  }
}
