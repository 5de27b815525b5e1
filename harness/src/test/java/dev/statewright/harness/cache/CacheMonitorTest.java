package dev.statewright.harness.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.lifecycle.Transition;
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

  /**
   * Inside one step a reentrant factory deletes its key and another re-adds it: the build that
   * finished belongs to the removed incarnation, and the new one has served nothing yet. Neither
   * is a newer client discarded (C3) nor a lost client (C7); without the removal, both are.
   * (Explore run seed -81500154726516856 of "reentrant factories" reported both.)
   */
  @Test
  void aKeyDeletedAndReAddedInsideOneStepLostNothing() throws Exception {
    assertEquals(List.of(), deleteAndReAddInOneStep(true));
    assertEquals(List.of("C3: a finished build of a v4 was not served (serving v1): newer clients "
        + "are discarded"), deleteAndReAddInOneStep(false));
  }

  private static List<String> deleteAndReAddInOneStep(boolean removed) throws Exception {
    CacheMonitor stepwise = new CacheMonitor(2, true);
    java.util.concurrent.CompletableFuture<SimClient> never = new java.util.concurrent.CompletableFuture<>();
    ClientCache<String, SimSpec, SimClient> cache = ClientCache.<String, SimSpec, SimClient>asyncBuilder(
        (key, spec) -> spec.version() == 1
            ? java.util.concurrent.CompletableFuture.completedFuture(new SimClient(key, 1, 1, 1, stepwise))
            : never)
        .listener(new CacheListener<String>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            stepwise.toldTransition(key, t);
          }
        }).build();
    cache.upsert("a", new SimSpec(1), 1).join();
    stepwise.watch(new RealCache(cache), List.of("a"));
    stepwise.afterStep(); // a serves v1
    cache.upsert("a", new SimSpec(4), 4); // its build, call 7, is the monitor's below
    stepwise.buildStarted("a", 4, 7);
    if (removed) {
      cache.delete("a", 5).join();
    }
    SimClient four = new SimClient("a", 4, 2, 4, stepwise);
    stepwise.buildFinished("a", 4, 7, four);
    four.close();
    cache.upsert("a", new SimSpec(6), 6); // its build never ends: nothing served
    stepwise.afterStep();
    List<String> seen = new java.util.ArrayList<>();
    for (String v : stepwise.finish(List.of())) {
      if (v.startsWith("C3") || v.startsWith("C7")) {
        seen.add(v);
      }
    }
    return seen;
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
