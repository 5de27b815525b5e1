package dev.statewright.harness.canary;

import dev.statewright.event.DirectoryEventSource.SpecParser;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The engine's {@code DirectoryEventSource} cut to its periodic rescan (no watcher, no
 * dependencies, each scan a full resync), with the parser bug the black-box attack found put
 * back: it catches {@code Exception} only, so a parser's {@code Error} comes out of
 * {@code start()} and kills the rescans.
 */
final class BrokenDirectorySource implements EventSource<String, String> {
  /*
   * Overview: start scans and sets a timer; each timer rescans, delivers the whole folder as a
   * resync, and sets the next.
   *
   * Concurrency: rescan() is synchronized, as the engine's; `timer` and `closed` are volatile
   * for close().
   *
   * Ordering of this file: fields, the EventSource methods, scanning.
   */
  private final Path directory;
  private final String suffix;
  private final SpecParser<String> parser;
  private final Duration interval;
  private final Scheduler scheduler;
  private final Map<String, Versioned<String>> good = new HashMap<>(); // guarded by this
  private long version; // guarded by this
  private EventSink<String, String> sink; // set by start, before any scan
  private volatile Scheduler.Cancellable timer = () -> { };
  private volatile boolean closed;

  BrokenDirectorySource(Path directory, String suffix, SpecParser<String> parser,
      Duration interval, Scheduler scheduler) {
    this.directory = directory;
    this.suffix = suffix;
    this.parser = parser;
    this.interval = interval;
    this.scheduler = scheduler;
  }

  @Override
  public void start(EventSink<String, String> sink) {
    this.sink = sink;
    rescan();
    timer = scheduler.schedule(this::periodicRescan, interval);
  }

  @Override
  public void close() {
    closed = true;
    timer.cancel();
  }

  private void periodicRescan() {
    if (!closed) {
      rescan();
      timer = scheduler.schedule(this::periodicRescan, interval);
    }
  }

  private synchronized void rescan() {
    good.clear();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + suffix)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        parsed(name.substring(0, name.length() - suffix.length()), file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    sink.resync(Map.copyOf(good), version);
  }

  private void parsed(String key, Path file) throws IOException {
    try {
      String spec = parser.parse(file, Files.readAllBytes(file));
      if (spec == null) {
        throw new IllegalArgumentException("the parser returned null");
      }
      good.put(key, Versioned.of(spec, ++version));
    } catch (Exception e) { // the bug: an Error goes past this
      sink.reject(key, e);
    }
  }
}
