package dev.statewright.harness.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.time.Scheduler;
import java.time.Duration;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/** The engine's event sources against {@link EventSourceProperty}, many seeded runs. */
class EventSourcePropertyTest {
  private static final int RUNS = 2_000;

  @Test
  void theEngineSourcesPassEveryRun() throws Exception {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println("event sources: seed=" + seed + " (replay with -Dstatewright.seed=" + seed
        + ")");
    SplittableRandom seeds = new SplittableRandom(seed);
    EventSourceProperty property = EventSourceProperty.eventSources();
    for (int run = 0; run < RUNS; run++) {
      long runSeed = seeds.nextLong();
      assertEquals(List.of(), property.run(runSeed), "run " + run + ", run seed " + runSeed
          + " of seed " + seed);
    }
  }

  // E3's lost-update branch bites: a polling source whose vanished keys never reach the sink (its
  // resyncs arrive as upserts only) is caught within a few hundred runs.
  @Test
  void aSourceThatLosesDeletesFailsE3() throws Exception {
    SourcesUnderTest losesDeletes = new SourcesUnderTest() {
      @Override
      public EventSource<String, String> polling(
          Callable<? extends Map<String, Versioned<String>>> lister, Duration interval,
          Scheduler scheduler) {
        EventSource<String, String> engine = SourcesUnderTest.super.polling(lister, interval,
            scheduler);
        return new EventSource<>() {
          @Override
          public void start(EventSink<String, String> sink) {
            engine.start(new UpsertsOnly(sink));
          }

          @Override
          public void close() {
            engine.close();
          }
        };
      }
    };
    EventSourceProperty property = new EventSourceProperty("loses deletes", losesDeletes);
    long seed = new SplittableRandom().nextLong();
    SplittableRandom seeds = new SplittableRandom(seed);
    List<String> seen = List.of();
    for (int run = 0; run < 300 && seen.stream().noneMatch(v -> v.startsWith("E3: after")); run++) {
      seen = property.run(seeds.nextLong());
    }
    assertTrue(seen.stream().anyMatch(v -> v.startsWith("E3: after")), "seed " + seed + ": " + seen);
  }

  /** Hands a resync on as upserts: keys absent from it are never deleted. */
  private record UpsertsOnly(EventSink<String, String> sink) implements EventSink<String, String> {
    @Override
    public void upsert(String key, String spec, long version) {
      sink.upsert(key, spec, version);
    }

    @Override
    public void delete(String key, long version) {
      sink.delete(key, version);
    }

    @Override
    public void resync(Map<String, Versioned<String>> all) {
      all.forEach((key, v) -> sink.upsert(key, v.value(), v.version()));
    }
  }
}
