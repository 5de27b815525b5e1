package dev.statewright.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.testing.ManualScheduler;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A lease type of the owner's own ({@link LeasedResource.Claim}) is counted as any lease is. */
class ClaimTest {
  private final AtomicInteger released = new AtomicInteger();
  private final LeasedResource<String> resource = LeasedResource.of("client", "payload",
      value -> released.incrementAndGet(), new ManualScheduler());

  /** What a cache's lease adds: something the resource does not know. */
  static final class Tagged extends LeasedResource.Claim<String> {
    final long version;

    Tagged(LeasedResource<String> resource, String holder, long version) {
      super(resource, holder);
      this.version = version;
    }

    boolean closedNow() {
      return isClosed();
    }
  }

  @Test
  void aClaimIsCountedFromItsConstructionAndReleasesOnItsLastClose() {
    Tagged lease = new Tagged(resource, "watch", 7);
    assertThat(resource.leaseCount()).isEqualTo(1);
    assertThat(resource.holders()).containsExactly("watch");
    assertThat(lease.get()).isEqualTo("payload");
    assertThat(lease.holder()).isEqualTo("watch");
    assertThat(lease.version).isEqualTo(7);
    assertThat(lease.resource()).isSameAs(resource);
    resource.retire();
    assertThat(released).hasValue(0);

    lease.close();
    lease.close();

    assertThat(lease.closedNow()).isTrue();
    assertThat(released).hasValue(1);
    assertThat(resource.state()).isEqualTo(ResourceState.RELEASED);
    assertThatThrownBy(lease::get).isInstanceOf(IllegalStateException.class)
        .hasMessage("the lease of 'client' by watch is closed");
    assertThat(lease).hasToString("Lease[client by watch, closed]");
  }

  @Test
  void aClaimOnARetiredResourceOrForNoOneIsRefused() {
    assertThatThrownBy(() -> new Tagged(resource, " ", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a lease of 'client' needs a non-blank holder");
    assertThat(resource.leaseCount()).isZero();
    resource.retire();
    assertThatThrownBy(() -> new Tagged(resource, "late", 1))
        .isInstanceOf(ResourceReleasedException.class);
    assertThat(resource.leaseCount()).isZero();
  }
}
