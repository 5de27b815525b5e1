package dev.statewright.harness.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The monitor's checks fire on the behaviour they forbid: the checks are not vacuous. */
class CacheMonitorTest {
  private final CacheMonitor monitor = new CacheMonitor(2, true); // stepwise: finish() does not wait

  private List<String> violations() throws InterruptedException {
    monitor.watch(new RealCache(dev.statewright.cache.ClientCache
        .<String, SimSpec, SimClient>builder((k, s) -> null).build()), List.of());
    return monitor.finish(List.of());
  }

  @Test
  void aThirdBuildAtOnceBreaksTheBulkhead() throws InterruptedException {
    monitor.buildStarted("a", 1);
    monitor.buildStarted("b", 1);
    monitor.buildStarted("c", 1);
    assertEquals(List.of("C8: 3 builds at once, more than 2"), violations());
  }

  @Test
  void aSecondBuildOfOneKeyBreaksSingleFlight() throws InterruptedException {
    monitor.buildStarted("a", 1);
    monitor.buildFinished("a", 1, null);
    monitor.buildStarted("a", 2);
    monitor.buildStarted("a", 3);
    assertEquals(List.of("C1: 2 builds of a in flight at once"), violations());
  }

  @Test
  void onRealThreadsACallOverlappingOneNeverGivenUpBreaksSingleFlight() throws InterruptedException {
    CacheMonitor threads = new CacheMonitor(2, false);
    threads.buildStarted("a", 1, 1);
    threads.buildStarted("a", 2, 2); // call 1 is live: a second flight
    threads.buildFinished("a", 1, 1, null);
    threads.buildFinished("a", 2, 2, null);
    threads.buildGivenUp(2); // the newer one given up later excuses nothing
    assertEquals(List.of("C1: 2 builds of a in flight at once: call #2 started while #1 ran, which the "
        + "cache never gave up"), finish(threads));
  }

  @Test
  void onRealThreadsACallMayOverlapOneTheCacheGaveUp() throws InterruptedException {
    CacheMonitor threads = new CacheMonitor(2, false);
    threads.buildStarted("a", 1, 1);
    threads.buildStarted("a", 2, 2); // the cache abandoned call 1 before; its cancel comes now
    threads.buildFinished("a", 1, 1, null);
    threads.buildGivenUp(1);
    threads.buildFinished("a", 2, 2, null);
    assertEquals(List.of(), finish(threads));
  }

  private static List<String> finish(CacheMonitor threads) throws InterruptedException {
    threads.watch(new RealCache(dev.statewright.cache.ClientCache
        .<String, SimSpec, SimClient>builder((k, s) -> null).build()), List.of());
    return threads.finish(List.of());
  }

  @Test
  void aClientClosedWhileLeasedOrTwiceBreaksDisposal() throws InterruptedException {
    SimClient client = new SimClient("a", 1, 1, 1, monitor);
    monitor.buildStarted("a", 1);
    monitor.buildFinished("a", 1, client);
    client.leases.incrementAndGet();
    client.close();
    client.leases.decrementAndGet();
    client.close();
    List<String> seen = violations();
    assertTrue(seen.contains("C6: client#1(a v1) closed while 1 lease(s) held it"), seen.toString());
    assertTrue(seen.contains("C6: client#1(a v1) closed 2 times"), seen.toString());
  }
}
