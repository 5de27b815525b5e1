package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.lease.Lease;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Transitions, builds and leases show up in a flight recording, as Mission Control would see them. */
class JfrEventsTest {
  @Test
  void transitionsBuildsAndLeasesAreRecorded(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("statewright.jfr");
    try (Recording recording = new Recording()) {
      recording.enable("dev.statewright.Transition");
      recording.enable("dev.statewright.Build");
      recording.enable("dev.statewright.Lease");
      recording.start();
      try (ClientCache<String, Repo, Client> cache = ClientCache.builder(new Factory()).build()) {
        cache.upsert("redis", new Repo("https://user:hunter2@charts.example"), 1).get(10, TimeUnit.SECONDS);
        try (Lease<Client> lease = cache.acquire("redis")) {
          assertThat(lease.get()).isNotNull();
        }
      }
      recording.stop();
      recording.dump(file);
    }

    List<RecordedEvent> events = RecordingFile.readAllEvents(file);
    Set<String> seen = events.stream().map(e -> e.getEventType().getName()).collect(Collectors.toSet());
    assertThat(seen).contains("dev.statewright.Transition", "dev.statewright.Build", "dev.statewright.Lease");
    assertThat(events).filteredOn(e -> e.getEventType().getName().equals("dev.statewright.Transition"))
        .extracting(e -> e.getString("key") + " " + e.getString("event"))
        .contains("redis BUILD_STARTED", "redis BUILD_SUCCEEDED");
    assertThat(events).filteredOn(e -> e.getEventType().getName().equals("dev.statewright.Transition"))
        .extracting(e -> e.getString("machine") + " " + e.getString("event"))
        .as("the client's lease lifecycle too").contains("resource ACQUIRED");
    assertThat(events).filteredOn(e -> e.getEventType().getName().equals("dev.statewright.Build"))
        .extracting(e -> e.getString("outcome")).containsExactly("built");
    assertThat(events).extracting(RecordedEvent::toString)
        .noneMatch(text -> text.contains("hunter2"));
  }
}
