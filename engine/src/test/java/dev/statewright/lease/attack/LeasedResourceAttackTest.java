package dev.statewright.lease.attack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.lease.Lease;
import dev.statewright.lease.LeasedResource;
import dev.statewright.lease.ResourceEvent;
import dev.statewright.lease.ResourceReleasedException;
import dev.statewright.lease.ResourceState;
import dev.statewright.lifecycle.Transition;
import dev.statewright.lifecycle.TransitionListener;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import dev.statewright.time.Scheduler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attacks {@link LeasedResource} and {@link Lease} from outside, through their javadoc and the
 * design's Lease section: raced closes and retires, hostile release actions and listeners, holder
 * validation, ten thousand leases.
 */
class LeasedResourceAttackTest {
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() {
    threads.shutdownNow();
  }

  // Lease: "close() is idempotent"; LeasedResource: "released exactly once, when its owner has
  // retired it and its last Lease has closed"; "never released while leased" (C6/S2). Seeded
  // stress: leases closed (some twice, from two threads), retire and late acquires all race.
  @Test
  void releaseRunsExactlyOnceAfterTheLastLeaseWhenRetireClosesAndAcquiresRace() throws Exception {
    SplittableRandom random = Seeds.random("releaseRunsExactlyOnceAfterTheLastLeaseWhenRetireClosesAndAcquiresRace");
    for (int round = 0; round < 300; round++) {
      AtomicInteger releases = new AtomicInteger();
      AtomicInteger knownOpen = new AtomicInteger();
      AtomicInteger releasedWhileLeased = new AtomicInteger();
      AtomicInteger intoReleased = new AtomicInteger();
      TransitionListener<ResourceState, ResourceEvent> listener = (key, t) -> {
        if (t.to() == ResourceState.RELEASED) {
          intoReleased.incrementAndGet();
        }
      };
      LeasedResource<String> resource = LeasedResource.of("r" + round, "value", v -> {
        releases.incrementAndGet();
        if (knownOpen.get() > 0) {
          releasedWhileLeased.incrementAndGet();
        }
      }, listener, Scheduler.system());
      int leases = random.nextInt(0, 8);
      List<Lease<String>> open = new ArrayList<>();
      for (int i = 0; i < leases; i++) {
        open.add(resource.acquire("holder-" + i));
        knownOpen.incrementAndGet();
      }
      int workers = 4;
      long workerSeed = random.nextLong();
      Workers.run(workers, w -> {
        SplittableRandom mine = new SplittableRandom(workerSeed + w);
        for (int i = w; i < open.size(); i += workers) {
          Lease<String> lease = open.get(i);
          knownOpen.decrementAndGet();
          lease.close();
          if (mine.nextBoolean()) {
            lease.close();
          }
        }
        if (w == 0) {
          resource.retire();
        }
        if (w == 1 && mine.nextBoolean()) {
          resource.retire();
        }
        for (int i = 0; i < 3; i++) {
          try {
            Lease<String> late = resource.acquire("late-" + w);
            knownOpen.incrementAndGet();
            assertThat(late.get()).isEqualTo("value");
            knownOpen.decrementAndGet();
            late.close();
          } catch (ResourceReleasedException refused) {
            assertThat(refused.resource()).isEqualTo(resource.name());
          }
        }
      });
      // a close by a second thread of a lease closed already: counts nothing
      if (!open.isEmpty()) {
        CompletableFuture.runAsync(() -> open.get(0).close(), threads).get(10, TimeUnit.SECONDS);
      }
      assertThat(releases.get()).as("round %d: releases with %d leases", round, leases).isEqualTo(1);
      assertThat(intoReleased.get()).as("round %d: transitions into RELEASED", round).isEqualTo(1);
      assertThat(releasedWhileLeased.get()).as("round %d: released while leased", round).isZero();
      assertThat(resource.state()).isEqualTo(ResourceState.RELEASED);
      assertThat(resource.leaseCount()).isZero();
      assertThat(resource.holders()).isEmpty();
    }
  }

  // "close() is idempotent": one lease closed from eight threads at once counts as one close.
  @Test
  void oneLeaseClosedByManyThreadsAtOnceCountsOnce() throws Exception {
    SplittableRandom random = Seeds.random("oneLeaseClosedByManyThreadsAtOnceCountsOnce");
    for (int round = 0; round < 200; round++) {
      AtomicInteger releases = new AtomicInteger();
      LeasedResource<String> resource = LeasedResource.of("r", "v", v -> releases.incrementAndGet());
      int others = random.nextInt(1, 4);
      List<Lease<String>> kept = new ArrayList<>();
      for (int i = 0; i < others; i++) {
        kept.add(resource.acquire("keeper-" + i));
      }
      Lease<String> target = resource.acquire("target");
      Workers.run(4, w -> target.close());
      assertThat(resource.leaseCount()).as("round %d", round).isEqualTo(others);
      assertThat(resource.holders()).doesNotContain("target").hasSize(others);
      assertThat(resource.state()).isEqualTo(ResourceState.IN_USE);
      resource.retire();
      assertThat(releases.get()).isZero();
      kept.forEach(Lease::close);
      assertThat(releases.get()).isEqualTo(1);
    }
  }

  // "if it throws, the failure is logged and the resource is released all the same" — for any
  // Throwable the release action throws, retire and the last close return normally.
  @Test
  void aReleaseActionThatThrowsLeavesTheResourceReleasedAndTheCallerUnharmed() {
    List<Throwable> thrown = List.of(new IllegalStateException("close failed"),
        new AssertionError("closer bug"), new StackOverflowError("deep"));
    for (Throwable t : thrown) {
      LeasedResource<String> byRetire = LeasedResource.of("byRetire", "v", v -> sneaky(t));
      assertThatCode(byRetire::retire).as("retire, %s", t).doesNotThrowAnyException();
      assertThat(byRetire.state()).isEqualTo(ResourceState.RELEASED);
      assertThatThrownBy(() -> byRetire.acquire("x")).isInstanceOf(ResourceReleasedException.class);

      LeasedResource<String> byClose = LeasedResource.of("byClose", "v", v -> sneaky(t));
      Lease<String> lease = byClose.acquire("last");
      byClose.retire();
      assertThatCode(lease::close).as("last close, %s", t).doesNotThrowAnyException();
      assertThat(byClose.state()).isEqualTo(ResourceState.RELEASED);
      assertThatCode(lease::close).doesNotThrowAnyException();
    }
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> void sneaky(Throwable t) throws E {
    throw (E) t;
  }

  // state(): "RELEASED once the release action has started"; acquire after retire throws; retire
  // is a no-op the second time. A release action that calls back into its resource neither
  // deadlocks nor runs twice.
  @Test
  void aReleaseActionThatCallsBackIntoItsResourceSeesItReleased() throws Exception {
    AtomicInteger releases = new AtomicInteger();
    AtomicReference<LeasedResource<String>> self = new AtomicReference<>();
    List<Object> seen = Collections.synchronizedList(new ArrayList<>());
    self.set(LeasedResource.of("reentrant", "v", v -> {
      releases.incrementAndGet();
      LeasedResource<String> r = self.get();
      seen.add(r.state());
      seen.add(r.holders());
      seen.add(r.leaseCount());
      r.retire();
      try {
        r.acquire("from-release").close();
        seen.add("acquired");
      } catch (ResourceReleasedException expected) {
        seen.add("refused");
      }
    }));
    Lease<String> lease = self.get().acquire("h");
    self.get().retire();
    CompletableFuture.runAsync(lease::close, threads).get(10, TimeUnit.SECONDS);
    assertThat(releases.get()).isEqualTo(1);
    assertThat(seen).containsExactly(ResourceState.RELEASED, List.of(), 0, "refused");
  }

  // A release action that blocks (a client's close hanging on the network) holds only its own
  // thread: others reading or acquiring the resource are answered at once.
  @Test
  void aBlockingReleaseActionStallsNobodyElse() throws Exception {
    CountDownLatch inRelease = new CountDownLatch(1);
    CountDownLatch unblock = new CountDownLatch(1);
    LeasedResource<String> resource = LeasedResource.of("blocking", "v", v -> {
      inRelease.countDown();
      try {
        unblock.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Lease<String> lease = resource.acquire("h");
    resource.retire();
    CompletableFuture<Void> closing = CompletableFuture.runAsync(lease::close, threads);
    try {
      assertThat(inRelease.await(10, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Object> other = CompletableFuture.supplyAsync(() -> {
        List<Object> answers = new ArrayList<>();
        answers.add(resource.state());
        answers.add(resource.holders());
        answers.add(resource.leaseCount());
        answers.add(resource.isRetired());
        lease.close();
        resource.retire();
        try {
          resource.acquire("late");
          answers.add("acquired");
        } catch (ResourceReleasedException e) {
          answers.add("refused");
        }
        return answers;
      }, threads);
      assertThat(other.get(5, TimeUnit.SECONDS))
          .isEqualTo(List.of(ResourceState.RELEASED, List.of(), 0, true, "refused"));
    } finally {
      unblock.countDown();
    }
    closing.get(10, TimeUnit.SECONDS);
  }

  // acquire: "@throws IllegalArgumentException if holder is null or blank"; Lease.holder():
  // "never blank"; of: "IllegalArgumentException if name is null or blank; NullPointerException if
  // any other argument is null".
  @Test
  void holdersAndNamesAreValidated() {
    LeasedResource<String> resource = LeasedResource.of("r", "v", v -> { });
    for (String blank : new String[] {null, "", " ", "\t\n", "\u2003", "\u3000 "}) {
      assertThatThrownBy(() -> resource.acquire(blank)).as("holder %s", String.valueOf(blank))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> LeasedResource.of(blank, "v", v -> { })).as("name")
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(resource.leaseCount()).isZero();
    assertThat(resource.state()).isEqualTo(ResourceState.STAGED);
    assertThatThrownBy(() -> LeasedResource.of("r", null, v -> { })).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> LeasedResource.of("r", "v", null)).isInstanceOf(NullPointerException.class);
    for (String odd : new String[] {"\u0000", "a\nb", "\u00a0", "x".repeat(100_000), "é"}) {
      try (Lease<String> lease = resource.acquire(odd)) {
        assertThat(lease.holder()).isEqualTo(odd);
        assertThat(resource.holders()).containsExactly(odd);
      }
    }
  }

  // holders(): "a new, mutable list ... one entry per lease; a holder with two open leases appears
  // twice"; counted: "holders() is always empty"; Lease.get: "IllegalStateException if this lease
  // is closed"; holder(): "still answered after close"; IN_USE back to STAGED after the last close.
  @Test
  void holdersIsOneEntryPerOpenLeaseAndACopy() {
    LeasedResource<String> resource = LeasedResource.of("r", "v", v -> { });
    Lease<String> a1 = resource.acquire("a");
    Lease<String> a2 = resource.acquire("a");
    Lease<String> b = resource.acquire("b");
    List<String> holders = resource.holders();
    assertThat(holders).containsExactlyInAnyOrder("a", "a", "b");
    holders.clear();
    holders.add("intruder");
    assertThat(resource.holders()).containsExactlyInAnyOrder("a", "a", "b");
    a1.close();
    assertThat(resource.holders()).containsExactlyInAnyOrder("a", "b");
    assertThatThrownBy(a1::get).isInstanceOf(IllegalStateException.class);
    assertThat(a1.holder()).isEqualTo("a");
    assertThat(a2.get()).isEqualTo("v");
    a2.close();
    b.close();
    assertThat(resource.state()).isEqualTo(ResourceState.STAGED);
    assertThat(resource.leaseCount()).isZero();

    LeasedResource<String> counted = LeasedResource.counted("c", "v", v -> { }, Scheduler.system());
    try (Lease<String> l = counted.acquire("someone")) {
      assertThat(counted.holders()).isEmpty();
      assertThat(counted.leaseCount()).isEqualTo(1);
      assertThat(l.holder()).isEqualTo("someone");
    }
    assertThatThrownBy(() -> counted.acquire(" ")).isInstanceOf(IllegalArgumentException.class);
  }

  // Ten thousand leases from eight threads: counts and holders exact; retired first, the last
  // close releases once and ResourceReleasedException names the last closer (releasedBy: "the
  // holder whose close was last").
  @Test
  void tenThousandLeasesAreCountedExactlyAndReleasedOnceByTheLastCloser() throws Exception {
    for (boolean counted : new boolean[] {false, true}) {
      AtomicInteger releases = new AtomicInteger();
      AtomicReference<String> releasingThread = new AtomicReference<>();
      LeasedResource<String> resource = counted
          ? LeasedResource.counted("big", "v", v -> {
            releases.incrementAndGet();
            releasingThread.set(Thread.currentThread().getName());
          }, Scheduler.system())
          : LeasedResource.of("big", "v", v -> {
            releases.incrementAndGet();
            releasingThread.set(Thread.currentThread().getName());
          });
      ConcurrentLinkedQueue<Lease<String>> all = new ConcurrentLinkedQueue<>();
      Workers.run(8, w -> {
        for (int i = 0; i < 1250; i++) {
          all.add(resource.acquire("w" + w + "-" + i));
        }
      });
      assertThat(resource.leaseCount()).isEqualTo(10_000);
      assertThat(resource.holders()).hasSize(counted ? 0 : 10_000);
      resource.retire();
      assertThat(resource.state()).isEqualTo(ResourceState.IN_USE);
      ResourceReleasedException whileRetired = catchReleased(resource);
      assertThat(whileRetired.releasedAt()).isEmpty();
      assertThat(whileRetired.releasedBy()).isEmpty();
      List<Lease<String>> list = new ArrayList<>(all);
      Workers.run(8, w -> {
        for (int i = w; i < list.size(); i += 8) {
          list.get(i).close();
          list.get(i).close();
        }
      });
      assertThat(releases.get()).isEqualTo(1);
      assertThat(releasingThread.get()).startsWith("worker-");
      assertThat(resource.leaseCount()).isZero();
      assertThat(resource.state()).isEqualTo(ResourceState.RELEASED);
      ResourceReleasedException after = catchReleased(resource);
      assertThat(after.resource()).isEqualTo("big");
      assertThat(after.releasedAt()).isPresent();
      assertThat(after.releasedBy()).hasValueSatisfying(by -> assertThat(by).startsWith("w"));
      assertThat(after.getMessage()).contains("big");
    }
  }

  private static ResourceReleasedException catchReleased(LeasedResource<String> resource) {
    try {
      resource.acquire("probe").close();
    } catch (ResourceReleasedException e) {
      return e;
    }
    throw new AssertionError("acquire after retire did not throw");
  }

  // "releasedBy: "its owner" when retiring released it"
  @Test
  void retiringWithNoLeaseReleasesAtOnceByItsOwner() {
    AtomicInteger releases = new AtomicInteger();
    LeasedResource<String> resource = LeasedResource.of("r", "v", v -> releases.incrementAndGet());
    resource.acquire("h").close();
    resource.retire();
    resource.retire();
    assertThat(releases.get()).isEqualTo(1);
    ResourceReleasedException e = catchReleased(resource);
    assertThat(e.releasedBy()).hasValue("its owner");
  }

  // of(..., listener, ...): "what it throws is logged and the transition stands"; a listener that
  // calls back into the resource (acquire and close from inside onTransition) neither deadlocks
  // nor breaks the count.
  @Test
  void aListenerThatThrowsOrCallsBackLeavesEveryTransitionStanding() throws Exception {
    AtomicInteger releases = new AtomicInteger();
    AtomicReference<LeasedResource<String>> self = new AtomicReference<>();
    AtomicInteger depth = new AtomicInteger();
    List<Transition<ResourceState, ResourceEvent>> told = Collections.synchronizedList(new ArrayList<>());
    TransitionListener<ResourceState, ResourceEvent> listener = (key, t) -> {
      told.add(t);
      if (t.event() == ResourceEvent.ACQUIRED && depth.getAndIncrement() == 0) {
        try {
          self.get().acquire("nested").close();
        } finally {
          depth.decrementAndGet();
        }
      } else if (t.event() == ResourceEvent.ACQUIRED) {
        depth.decrementAndGet();
      }
      if (t.event() == ResourceEvent.LEASE_CLOSED || t.event() == ResourceEvent.RETIRED) {
        throw new AssertionError("listener bug on " + t);
      }
    };
    self.set(LeasedResource.of("listened", "v", v -> releases.incrementAndGet(), listener, Scheduler.system()));
    CompletableFuture<Void> run = CompletableFuture.runAsync(() -> {
      Lease<String> a = self.get().acquire("a");
      Lease<String> b = self.get().acquire("b");
      a.close();
      self.get().retire();
      b.close();
    }, threads);
    assertThatCode(() -> run.get(10, TimeUnit.SECONDS)).doesNotThrowAnyException();
    assertThat(releases.get()).isEqualTo(1);
    assertThat(self.get().state()).isEqualTo(ResourceState.RELEASED);
    assertThat(self.get().leaseCount()).isZero();
    assertThat(told).extracting(Transition::to).last().isEqualTo(ResourceState.RELEASED);
  }
  /** A lease type of an owner's choosing, as the javadoc of Claim invites. */
  static final class Rich extends LeasedResource.Claim<String> {
    Rich(LeasedResource<String> resource, String holder) {
      super(resource, holder);
    }

    boolean closed() {
      return isClosed();
    }

    LeasedResource<String> owner() {
      return resource();
    }
  }

  // Claim: "Each instance is one lease, counted by its resource from its construction";
  // "holder ... not blank"; "@throws ResourceReleasedException if the owner has retired the
  // resource"; isClosed: "true once the first close has run; further closes do nothing".
  @Test
  void aClaimOfTheOwnersTypeIsCountedValidatedAndClosedOnce() {
    AtomicInteger releases = new AtomicInteger();
    LeasedResource<String> resource = LeasedResource.of("rich", "v", v -> releases.incrementAndGet());
    assertThatThrownBy(() -> new Rich(resource, " ")).isInstanceOf(IllegalArgumentException.class);
    assertThat(resource.leaseCount()).isZero();
    Rich rich = new Rich(resource, "owner-typed");
    assertThat(resource.leaseCount()).isEqualTo(1);
    assertThat(resource.holders()).containsExactly("owner-typed");
    assertThat(rich.owner()).isSameAs(resource);
    assertThat(rich.closed()).isFalse();
    resource.retire();
    assertThatThrownBy(() -> new Rich(resource, "late")).isInstanceOf(ResourceReleasedException.class);
    assertThat(resource.leaseCount()).isEqualTo(1);
    rich.close();
    rich.close();
    assertThat(rich.closed()).isTrue();
    assertThat(releases.get()).isEqualTo(1);
    assertThat(resource.state()).isEqualTo(ResourceState.RELEASED);
  }
}
