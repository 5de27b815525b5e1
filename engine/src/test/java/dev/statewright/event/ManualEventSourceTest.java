package dev.statewright.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ManualEventSourceTest {
  @Test
  void keepsEventsGivenBeforeStartAndDeliversThemInOrder() {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    RecordingSink<String> sink = new RecordingSink<>();
    source.upsert("a", "spec-a", 1);
    source.delete("b", 2);
    assertThat(sink.events).isEmpty();

    source.start(sink);
    source.resync(Map.of("a", Versioned.of("spec-a2", 3)));
    source.dependencyChanged("secret/x");

    assertThat(List.copyOf(sink.events)).containsExactly("upsert a v1 spec-a", "delete b v2",
        "resync {a=spec-a2@v3}", "dependency secret/x");
    assertThatThrownBy(() -> source.start(sink)).hasMessageContaining("already started");
  }

  @Test
  void aStoreAtVersionZeroAnswersZero() {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    assertThat(source.currentVersion()).as("unsupported until a version is set")
        .isCompletedExceptionally();
    source.storeVersion(0);
    assertThat(source.currentVersion()).isCompletedWithValue(0L);
  }

  @Test
  void refusesEventsAfterClose() {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    source.close();
    source.close();
    assertThatThrownBy(() -> source.upsert("a", "s", 1)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }
}
