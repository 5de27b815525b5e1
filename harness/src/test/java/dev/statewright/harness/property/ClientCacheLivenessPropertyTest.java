package dev.statewright.harness.property;

import dev.statewright.harness.cache.CacheModel;
import dev.statewright.harness.cache.CacheModel.Liveness;
import dev.statewright.harness.cache.Hostility;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Liveness through the harness, one kind of hostile user code at a time and then all mixed:
 * factories that complete or fail synchronously, throw Errors or call back into the cache
 * (delete, close); listeners and sources that throw; backlogs of 1,000 keys on one permit;
 * close() from any branch. Judged by the progress, permit, recursion, throwable, close, memory,
 * event and Secret monitors besides C1–C9's. Simulated only: every run replays from its seed.
 */
class ClientCacheLivenessPropertyTest {
  private static final int BACKLOG = 1_000;

  private static void check(String aspect, Liveness liveness, int runs) {
    PropertyRunner.check(CacheModel.clientCacheLiveness("client cache liveness: " + aspect, liveness),
        Settings.defaults().simulatedOnly().runs(runs));
  }

  @Test
  void aBacklogOfSynchronousBuildsNeitherRecursesNorLosesAPermit() {
    check("synchronous builds", Liveness.of(BACKLOG, Hostility::synchronousBuilds, false), 30);
  }

  @Test
  void aListenerThatThrowsStallsNoKey() {
    check("throwing listeners", Liveness.of(BACKLOG, Hostility::throwingListeners, false), 30);
  }

  @Test
  void aCloserThatThrowsLeaksNothing() {
    check("throwing closers", Liveness.of(BACKLOG, Hostility::throwingClosers, false), 30);
  }

  @Test
  void aFactoryMayCallBackIntoTheCache() {
    check("reentrant factories", Liveness.of(BACKLOG, Hostility::reentrantFactories, false), 30);
  }

  @Test
  void aListenerMayCallBackIntoTheCache() {
    check("reentrant listeners", Liveness.of(BACKLOG, Hostility::reentrantListeners, false), 30);
  }

  @Test
  void closeFromAnyBranchLeavesNothingLive() {
    check("close in parallel", Liveness.of(BACKLOG, Hostility::mannered, true), 30);
  }

  @Test
  void errorsFromFactoriesAndSourcesAreNoticedAtOnce() {
    check("Errors", Liveness.of(BACKLOG, Hostility::errors, false), 30);
  }

  @Test
  @Disabled("engine bug: close() walking the entries returns permits, so the bulkhead starts builds"
      + " of keys it has not removed yet, and a close() called from inside such a factory returns at"
      + " once while keys are still live (\"close: after close() from inside the factory's build of"
      + " b142 returned, b73 is still live\"); seed 3, run seed -2026577837770613771 (shrinks to"
      + " backlog(250 keys, v2), close()), also run seed -2299091214194776829")
  void everyKindOfHostilityMixed() {
    check("mixed", Liveness.of(BACKLOG, Hostility::draw, true), 40);
  }
}
