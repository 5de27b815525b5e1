package dev.statewright.harness.property;

import dev.statewright.harness.cache.CacheModel;
import org.junit.jupiter.api.Test;

/**
 * Liveness through the harness: factories that complete or fail synchronously, throw Errors or
 * call back into the cache (delete, close); listeners and sources that throw; backlogs of 1,000
 * keys on one permit; close() from any branch. Judged by the progress, permit, recursion,
 * throwable, close, memory, event and Secret monitors besides C1–C9's. Simulated only: every
 * run replays from its seed.
 */
class ClientCacheLivenessPropertyTest {
  @Test
  void noHostileFactoryListenerSourceOrCallerStallsOrLeaksTheCache() {
    PropertyRunner.check(CacheModel.clientCacheLiveness(1_000), Settings.defaults().simulatedOnly().runs(60));
  }
}
