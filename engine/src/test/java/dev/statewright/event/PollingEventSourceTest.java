package dev.statewright.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.testing.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class PollingEventSourceTest {
  private final ManualScheduler scheduler = new ManualScheduler();
  private final AtomicReference<Object> listing = new AtomicReference<>(Map.of());
  private final RecordingSink<String> sink = new RecordingSink<>();
  private final PollingEventSource<String, String> source = PollingEventSource.of("registry",
      () -> {
        Object now = listing.get();
        if (now instanceof Exception e) {
          throw e;
        }
        @SuppressWarnings("unchecked")
        Map<String, Versioned<String>> map = (Map<String, Versioned<String>>) now;
        return map;
      }, Duration.ofSeconds(10), scheduler);

  @Test
  void deliversTheFirstListingAsAResyncThenOnlyWhatChanged() {
    listing.set(Map.of("a", Versioned.of("A", 1), "b", Versioned.of("B", 1)));
    source.start(sink);
    scheduler.runAll();

    listing.set(Map.of("a", Versioned.of("A2", 2), "b", Versioned.of("B", 1)));
    scheduler.advance(Duration.ofSeconds(10));
    listing.set(Map.of("a", Versioned.of("A2", 2)));
    scheduler.advance(Duration.ofSeconds(10));

    assertThat(List.copyOf(sink.events)).containsExactly("resync {a=A@v1, b=B@v1}",
        "upsert a v2 A2", "resync {a=A2@v2}");
  }

  @Test
  void reportsProgressAtTheHighestVersionListedAfterEachListing() {
    listing.set(Map.of("a", Versioned.of("A", 4), "b", Versioned.of("B", 7)));
    source.start(sink);
    scheduler.runAll();
    assertThat(sink.progress).containsExactly(7L);
    assertThat(source.reportsProgress()).isTrue();

    listing.set(Map.of("a", Versioned.of("A", 4))); // b deleted: no newer version listed yet
    scheduler.advance(Duration.ofSeconds(10));
    listing.set(Map.of("a", Versioned.of("A", 9)));
    scheduler.advance(Duration.ofSeconds(10));

    assertThat(sink.progress).containsExactly(7L, 7L, 9L);
  }

  @Test
  void aFailingListerIsAskedAgainAtTheNextInterval() {
    listing.set(new IOException("registry unreachable"));
    source.start(sink);
    scheduler.runAll();
    assertThat(sink.events).isEmpty();

    listing.set(Map.of("a", Versioned.of("A", 1)));
    scheduler.advance(Duration.ofSeconds(10));
    assertThat(List.copyOf(sink.events)).containsExactly("resync {a=A@v1}");

    source.close();
    listing.set(Map.of());
    scheduler.advance(Duration.ofSeconds(30));
    assertThat(sink.events).hasSize(1);
  }

  @Test
  void refusesANonPositiveInterval() {
    assertThatThrownBy(() -> PollingEventSource.of("x", Map::of, Duration.ZERO, scheduler))
        .hasMessageContaining("polling interval must be positive");
  }
}
