package dev.statewright.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real folder, real WatchService; every wait is bounded and for a specific event. */
class DirectoryEventSourceTest {
  @TempDir
  Path root;
  private Path dir;
  private DirectoryEventSource<String> source;
  private final RecordingSink<String> sink = new RecordingSink<>();

  @BeforeEach
  void folder() throws IOException {
    dir = Files.createDirectory(root.resolve("repos"));
    source = DirectoryEventSource.of(dir, ".properties", (file, bytes) -> {
      String text = new String(bytes, StandardCharsets.UTF_8).strip();
      if (!text.startsWith("url=")) {
        throw new IllegalArgumentException("line 1: expected url=, got '" + text + "'");
      }
      return text.substring(4);
    }, Duration.ofMillis(200), Scheduler.system());
  }

  @AfterEach
  void close() {
    source.close();
  }

  private void write(String name, String content) throws IOException {
    Path staged = Files.writeString(root.resolve(name + ".next"), content);
    Files.move(staged, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void startsWithAResyncThenFollowsChangesAndDeletes() throws Exception {
    write("redis.properties", "url=https://a.example");
    source.start(sink);
    assertThat(sink.await("resync")).isEqualTo("resync {redis=https://a.example@v1}");

    write("redis.properties", "url=https://b.example");
    assertThat(sink.await("upsert")).isEqualTo("upsert redis v2 https://b.example");

    Files.delete(dir.resolve("redis.properties"));
    assertThat(sink.await("delete")).isEqualTo("delete redis v3");
  }

  @Test
  void reportsProgressAfterEachScanAndScansAgainForItsCurrentVersion() throws Exception {
    assertThat(source.reportsProgress()).as("consistent reads may wait on it").isTrue();
    assertThat(source.currentVersion()).as("not started: nothing scanned yet")
        .failsWithin(java.time.Duration.ZERO);
    write("redis.properties", "url=https://a.example");
    source.start(sink);
    sink.await("resync");
    assertThat(sink.progress).as("the first scan's version").startsWith(1L);

    write("mysql.properties", "url=https://m.example");
    long current = source.currentVersion().get(10, java.util.concurrent.TimeUnit.SECONDS);

    assertThat(current).as("a scan after the write has delivered it").isEqualTo(2);
    assertThat(sink.await("upsert mysql")).isEqualTo("upsert mysql v2 https://m.example");
    assertThat(sink.progress).contains(2L);
  }

  @Test
  void aFileThatFailsToParseIsRejectedByNameAndTheSourceCarriesOn() throws Exception {
    write("redis.properties", "url=https://a.example");
    source.start(sink);
    sink.await("resync");

    write("redis.properties", "uri=typo");
    assertThat(sink.await("reject")).contains("reject redis: cannot parse " + dir.resolve("redis.properties"))
        .contains("line 1: expected url=, got 'uri=typo'");
    assertThat(sink.await("resync")).as("the last good spec stays in resyncs")
        .isEqualTo("resync {redis=https://a.example@v1}");

    write("redis.properties", "url=https://c.example");
    assertThat(sink.await("upsert")).isEqualTo("upsert redis v2 https://c.example");
  }

  @Test
  void aChangedTokenFileIsADependencyChange() throws Exception {
    write("redis.properties", "url=https://a.example");
    write("redis.token", "one");
    source.start(sink);
    sink.await("resync");

    write("redis.token", "two");
    assertThat(sink.await("dependency")).isEqualTo("dependency redis.token");
  }

  @Test
  void survivesItsFolderBeingDeletedAndPicksItUpAgain() throws Exception {
    write("redis.properties", "url=https://a.example");
    source.start(sink);
    sink.await("resync");

    Files.delete(dir.resolve("redis.properties"));
    sink.await("delete redis");
    Files.delete(dir);
    Files.createDirectory(dir);
    write("redis.properties", "url=https://b.example");

    assertThat(sink.await("upsert")).isEqualTo("upsert redis v3 https://b.example");
  }

  @Test
  void refusesToStartOnAMissingFolderNamingIt() {
    DirectoryEventSource<String> missing = DirectoryEventSource.of(root.resolve("nope"),
        ".properties", (f, b) -> "x", Duration.ofSeconds(1), Scheduler.system());
    assertThatThrownBy(() -> missing.start(sink)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot watch " + root.resolve("nope"));
  }
}
