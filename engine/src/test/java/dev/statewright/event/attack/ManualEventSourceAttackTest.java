package dev.statewright.event.attack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.event.ManualEventSource;
import dev.statewright.event.Versioned;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Attacks {@link ManualEventSource} from outside: events given before, during and after start and
 * close by many threads, sinks that call back in, store versions that go backwards.
 */
class ManualEventSourceAttackTest {

  // "events given before start are kept, in order, and delivered when it starts"
  @Test
  void eventsGivenBeforeStartAreDeliveredInOrderAtStart() {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    source.upsert("a", "a1", 1);
    source.delete("a", 2);
    source.upsert("a", "a3", 3);
    source.progress(3);
    Recorder<String> sink = new Recorder<>();
    source.start(sink);
    assertThat(sink.callsCopy()).extracting(c -> c.kind() + " " + c.key() + " " + c.version())
        .containsExactly("upsert a 1", "delete a 2", "upsert a 3", "progress null 3");
  }

  // Same promise, with givers racing start: every giver's events reach the sink exactly once, in
  // the order that giver gave them, whether given before or after start.
  @Test
  void eventsGivenByManyThreadsRacingStartArriveExactlyOnceInOrder() throws Exception {
    SplittableRandom random = Seeds.random("eventsGivenByManyThreadsRacingStartArriveExactlyOnceInOrder");
    for (int round = 0; round < 20; round++) {
      ManualEventSource<String, String> source = new ManualEventSource<>();
      Recorder<String> sink = new Recorder<>();
      int startAfter = random.nextInt(0, 500);
      int perThread = 500;
      Workers.run(4, i -> {
        for (int v = 1; v <= perThread; v++) {
          if (i == 0 && v == startAfter) {
            source.start(sink);
          }
          source.upsert("k" + i, "s" + v, v);
        }
        if (i == 0 && startAfter == 0) {
          source.start(sink);
        }
      });
      int r = round;
      Map<String, List<Long>> byKey = new HashMap<>();
      for (Recorder.Call c : sink.callsCopy()) {
        byKey.computeIfAbsent(c.key(), k -> new ArrayList<>()).add(c.version());
      }
      for (int i = 0; i < 4; i++) {
        List<Long> expected = new ArrayList<>();
        for (long v = 1; v <= perThread; v++) {
          expected.add(v);
        }
        assertThat(byKey.get("k" + i)).as("round %d, start after %d, key k%d", r, startAfter, i)
            .isEqualTo(expected);
      }
      source.close();
    }
  }

  // "events given after close are refused"; EventSource.close: "Stops delivering; idempotent".
  // Givers race a close: after close returns, no delivery begins.
  @Test
  void givingRacesCloseAndNothingIsDeliveredAfterCloseReturns() throws Exception {
    SplittableRandom random = Seeds.random("givingRacesCloseAndNothingIsDeliveredAfterCloseReturns");
    for (int round = 0; round < 20; round++) {
      ManualEventSource<String, String> source = new ManualEventSource<>();
      Recorder<String> sink = new Recorder<>();
      source.start(sink);
      int closeAt = random.nextInt(1, 300);
      AtomicLong closedAt = new AtomicLong(Long.MAX_VALUE);
      Workers.run(4, i -> {
        for (int v = 1; v <= 300; v++) {
          if (i == 0 && v == closeAt) {
            source.close();
            closedAt.set(Recorder.CLOCK.incrementAndGet());
            source.close();
          }
          try {
            source.upsert("k" + i, "s" + v, v);
          } catch (IllegalStateException refused) {
            // refused after close: as promised
          }
        }
      });
      assertThat(sink.callsAfterTick(closedAt.get())).as("round %d, close at %d", round, closeAt).isEmpty();
    }
  }

  // "events given after close are refused": however a refusal shows, the sink does not get it.
  @Test
  void anEventGivenAfterCloseNeverReachesTheSink() {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    Recorder<String> sink = new Recorder<>();
    source.start(sink);
    source.close();
    for (Runnable give : List.<Runnable>of(() -> source.upsert("a", "a1", 1), () -> source.delete("a", 2),
        () -> source.resync(Map.of("b", Versioned.of("b", 1))), () -> source.progress(5))) {
      try {
        give.run();
      } catch (IllegalStateException refused) {
        // a refusal
      }
    }
    assertThat(sink.callsCopy()).isEmpty();
  }

  // A sink that gives an event back to its own source from inside a delivery: no deadlock, and
  // the event is delivered once.
  @Test
  void aSinkThatGivesEventsToItsOwnSourceIsDeliveredOnce() throws Exception {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    Recorder<String> sink = new Recorder<>() {
      @Override
      public void upsert(String key, String spec, long version) {
        super.upsert(key, spec, version);
        if (key.equals("a") && version < 5) {
          source.upsert("a", "a" + (version + 1), version + 1);
        }
      }
    };
    source.start(sink);
    java.util.concurrent.CompletableFuture<Void> giving =
        java.util.concurrent.CompletableFuture.runAsync(() -> source.upsert("a", "a1", 1));
    giving.get(10, TimeUnit.SECONDS);
    assertThat(sink.callsCopy()).extracting(Recorder.Call::version).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  // Same, while start delivers the events kept from before it: "events given before start are
  // kept, in order, and delivered when it starts"; the sink's own event comes after them, once.
  @Test
  void aSinkThatGivesEventsToItsOwnSourceWhileStartDeliversTheBacklogIsDeliveredOnce() throws Exception {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    Recorder<String> sink = new Recorder<>() {
      @Override
      public void upsert(String key, String spec, long version) {
        super.upsert(key, spec, version);
        if (key.equals("a") && version == 1) {
          source.upsert("b", "b1", 1);
        }
      }
    };
    source.upsert("a", "a1", 1);
    source.upsert("a", "a2", 2);
    java.util.concurrent.CompletableFuture<Void> starting =
        java.util.concurrent.CompletableFuture.runAsync(() -> source.start(sink));
    starting.get(10, TimeUnit.SECONDS);
    assertThat(sink.callsCopy()).extracting(c -> c.key() + c.version())
        .containsExactlyInAnyOrder("a1", "a2", "b1");
    assertThat(sink.callsCopy()).extracting(c -> c.key() + c.version()).containsSubsequence("a1", "a2");
  }

  // A sink that closes its source from inside a delivery: close returns, nothing more is delivered.
  @Test
  void aSinkThatClosesItsSourceFromInsideADeliveryIsToldNothingMore() throws Exception {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    Recorder<String> sink = new Recorder<>() {
      @Override
      public void upsert(String key, String spec, long version) {
        super.upsert(key, spec, version);
        source.close();
      }
    };
    source.upsert("a", "a1", 1);
    source.upsert("a", "a2", 2);
    java.util.concurrent.CompletableFuture<Void> starting =
        java.util.concurrent.CompletableFuture.runAsync(() -> source.start(sink));
    starting.get(10, TimeUnit.SECONDS);
    assertThat(sink.count("upsert")).isEqualTo(1);
  }

  // storeVersion: "the highest storeVersion(long) given; fails unsupported before the first"
  @Test
  void currentVersionIsTheHighestStoreVersionGivenEvenWhenItGoesBackwards() throws Exception {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    assertThatThrownBy(() -> source.currentVersion().get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(UnsupportedOperationException.class);
    source.storeVersion(10);
    source.storeVersion(4);
    assertThat(source.currentVersion().get(5, TimeUnit.SECONDS)).isEqualTo(10L);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Workers.run(4, i -> {
      for (long v = i; v < 4000; v += 4) {
        source.storeVersion(v);
        long now = source.currentVersion().get(5, TimeUnit.SECONDS);
        if (now < v) {
          failure.set(new AssertionError("currentVersion " + now + " after storeVersion " + v));
        }
      }
    });
    assertThat(failure.get()).isNull();
    assertThat(source.currentVersion().get(5, TimeUnit.SECONDS)).isEqualTo(3999L);
  }

  // Versioned: "@throws NullPointerException if value is null; IllegalArgumentException if version
  // is negative"; "toString shows the version only: values carry credentials".
  @Test
  void versionedRefusesNullAndNegativeAndNeverPrintsItsValue() {
    assertThatThrownBy(() -> Versioned.of(null, 1)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Versioned.of("x", -1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Versioned<>("x", Long.MIN_VALUE)).isInstanceOf(IllegalArgumentException.class);
    assertThat(Versioned.of("hunter2-token", Long.MAX_VALUE).toString())
        .doesNotContain("hunter2").contains(String.valueOf(Long.MAX_VALUE));
  }
}
