package dev.statewright.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.testing.ManualScheduler;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Names, descriptions and failure messages that no behavioural test read. */
class LeaseCornersTest {
  private final ManualScheduler scheduler = new ManualScheduler();

  @Test
  void aResourceAndItsLeasesDescribeThemselves() {
    LeasedResource<String> resource = LeasedResource.of("repo@v1", "client", c -> { }, scheduler);
    Lease<String> lease = resource.acquire("reader");

    assertThat(resource.name()).isEqualTo("repo@v1");
    assertThat(resource).hasToString("LeasedResource[repo@v1, IN_USE, holders=[reader]]");
    assertThat(lease).hasToString("Lease[repo@v1 by reader]");
    resource.retire();
    assertThat(resource).hasToString("LeasedResource[repo@v1, IN_USE, retired, holders=[reader]]");
    lease.close();
    assertThat(lease).hasToString("Lease[repo@v1 by reader, closed]");
  }

  @Test
  void acquireAfterRetireSaysWhetherItWasReleasedOrOnlyRetired() {
    LeasedResource<String> resource = LeasedResource.of("repo@v1", "client", c -> { }, scheduler);
    Lease<String> open = resource.acquire("reader");
    resource.retire();

    assertThatThrownBy(() -> resource.acquire("late")).isInstanceOf(ResourceReleasedException.class)
        .hasMessageContaining("its owner retired it at")
        .hasMessageContaining("it is released when its open leases close");
    open.close();
    assertThatThrownBy(() -> resource.acquire("later")).isInstanceOf(ResourceReleasedException.class)
        .hasMessageContaining("it was released at").hasMessageContaining("by reader");
  }

  @Test
  void aReleaseActionOrListenerThatThrowsAnErrorStillReleasesOnce() {
    AtomicInteger releases = new AtomicInteger();
    LeasedResource<String> resource = LeasedResource.of("repo@v1", "client", c -> {
      releases.incrementAndGet();
      throw new Error("closer bug");
    }, (key, t) -> {
      throw new Error("listener bug");
    }, scheduler);

    resource.retire();
    resource.retire();

    assertThat(releases).hasValue(1);
    assertThat(resource.state()).isEqualTo(ResourceState.RELEASED);
  }
}
