package dev.statewright.harness.property;

import dev.statewright.harness.cache.CacheModel;
import org.junit.jupiter.api.Test;

/** The engine's own C1–C9, C12 and C13 claims, proven through the harness: simulated and on real threads. */
class ClientCachePropertyTest {
  @Test
  void theClientCacheIsLinearizableAndKeepsItsInvariants() {
    PropertyRunner.check(CacheModel.clientCache(), Settings.defaults().runs(400));
  }

  @Test
  void theClientCacheConvergesAndKeepsItsInvariantsWhenBuildsFailAndHang() {
    PropertyRunner.check(CacheModel.clientCacheWithFaults(), Settings.defaults().runs(200));
  }

  @Test
  void expiredClientsAreNeverServedAndReconfiguredClientsListTheirNewSpec() { // C12, C13
    PropertyRunner.check(CacheModel.clientCacheRenewing(), Settings.defaults().simulatedOnly().runs(100));
  }
}
