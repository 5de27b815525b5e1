package dev.statewright.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.lifecycle.Transition;
import dev.statewright.testing.ManualScheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LeasedResourceTest {
  private final AtomicInteger released = new AtomicInteger();
  private final List<String> transitions = new ArrayList<>();
  private final LeasedResource<String> resource = LeasedResource.of("redis module", "payload",
      value -> released.incrementAndGet(),
      (key, t) -> transitions.add(t.toString()), new ManualScheduler());

  @Test
  void goesStagedInUseStagedWhileTheOwnerHoldsIt() {
    assertThat(resource.state()).isEqualTo(ResourceState.STAGED);

    try (Lease<String> a = resource.acquire("cluster-a"); Lease<String> b = resource.acquire("cluster-b")) {
      assertThat(a.get()).isEqualTo("payload").isSameAs(b.get());
      assertThat(resource.state()).isEqualTo(ResourceState.IN_USE);
      assertThat(resource.holders()).containsExactlyInAnyOrder("cluster-a", "cluster-b");
    }

    assertThat(resource.state()).isEqualTo(ResourceState.STAGED);
    assertThat(released).hasValue(0);
    assertThat(transitions).containsExactly("STAGED --ACQUIRED--> IN_USE",
        "IN_USE --ACQUIRED--> IN_USE", "IN_USE --LEASE_CLOSED--> IN_USE",
        "IN_USE --LAST_LEASE_CLOSED--> STAGED");
  }

  @Test
  void releasesOnceWhenRetiredWithoutLeases() {
    resource.retire();
    resource.retire();

    assertThat(resource.state()).isEqualTo(ResourceState.RELEASED);
    assertThat(released).hasValue(1);
    assertThat(transitions).containsExactly("STAGED --RETIRED--> RELEASED");
  }

  @Test
  void releasesWhenTheLastLeaseClosesAfterRetirement() {
    Lease<String> a = resource.acquire("cluster-a");
    Lease<String> b = resource.acquire("cluster-b");
    resource.retire();

    a.close();
    assertThat(released).as("still leased by cluster-b").hasValue(0);
    assertThat(resource.state()).isEqualTo(ResourceState.IN_USE);
    assertThat(resource.holders()).containsExactly("cluster-b");

    b.close();
    b.close();
    assertThat(released).hasValue(1);
    assertThat(resource.state()).isEqualTo(ResourceState.RELEASED);
  }

  @Test
  void refusesLeasesAfterRetirementNamingTheResourceAndWhoReleasedIt() {
    Lease<String> a = resource.acquire("cluster-a");
    resource.retire();
    assertThatThrownBy(() -> resource.acquire("cluster-b"))
        .isInstanceOf(ResourceReleasedException.class)
        .hasMessageContaining("cannot lease 'redis module' to cluster-b")
        .hasMessageContaining("its owner retired it");

    a.close();
    assertThatThrownBy(() -> resource.acquire("cluster-c"))
        .isInstanceOfSatisfying(ResourceReleasedException.class, e -> {
          assertThat(e.resource()).isEqualTo("redis module");
          assertThat(e.releasedBy()).contains("cluster-a");
          assertThat(e.releasedAt()).isPresent();
        })
        .hasMessageContaining("was released at 1970-01-01T00:00:01Z by cluster-a");
  }

  @Test
  void aClosedLeaseNoLongerGivesItsValue() {
    Lease<String> lease = resource.acquire("cluster-a");
    lease.close();

    assertThatThrownBy(lease::get).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lease of 'redis module' by cluster-a is closed");
  }

  @Test
  void aFailingReleaseActionIsLoggedAndStillCountsAsReleased() {
    LeasedResource<String> failing = LeasedResource.of("flaky", "v", v -> {
      throw new IllegalStateException("disk gone");
    });
    failing.retire();

    assertThat(failing.state()).isEqualTo(ResourceState.RELEASED);
  }

  @Test
  void refusesBlankNamesAndHolders() {
    assertThatThrownBy(() -> LeasedResource.of(" ", "v", v -> { }))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> resource.acquire(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs a non-blank holder");
  }

  @Test
  void everyReportedTransitionIsOneTheLifecyclePermits() {
    Lease<String> a = resource.acquire("a");
    resource.retire();
    a.close();
    for (Transition<ResourceState, ResourceEvent> t : LeasedResource.LIFECYCLE.transitions()) {
      assertThat(LeasedResource.LIFECYCLE.step("x", t.from(), t.event())).isEqualTo(t.to());
    }
    assertThat(transitions).containsExactly("STAGED --ACQUIRED--> IN_USE",
        "IN_USE --RETIRED--> IN_USE", "IN_USE --DRAINED--> RELEASED");
  }

  @Test
  void aCountedResourceKeepsTheLifecycleButNotTheNames() {
    AtomicInteger countedReleases = new AtomicInteger();
    LeasedResource<String> counted = LeasedResource.counted("client@v3", "c",
        v -> countedReleases.incrementAndGet(), new ManualScheduler());
    Lease<String> a = counted.acquire("reader-1");
    Lease<String> b = counted.acquire("reader-2");
    assertThat(counted.holders()).isEmpty();
    assertThat(counted.leaseCount()).isEqualTo(2);
    assertThat(a.holder()).isEqualTo("reader-1");

    counted.retire();
    a.close();
    assertThat(countedReleases).hasValue(0);
    b.close();
    assertThat(countedReleases).hasValue(1);
    assertThat(counted.state()).isEqualTo(ResourceState.RELEASED);
  }
}
