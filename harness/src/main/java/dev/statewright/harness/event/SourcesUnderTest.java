package dev.statewright.harness.event;

import dev.statewright.event.DirectoryEventSource;
import dev.statewright.event.DirectoryEventSource.SpecParser;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.ManualEventSource;
import dev.statewright.event.PollingEventSource;
import dev.statewright.event.Versioned;
import dev.statewright.time.Scheduler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The event sources a run of {@link EventSourceProperty} attacks. Each method makes the engine's
 * source; a canary overrides the one it breaks.
 */
public interface SourcesUnderTest {

  /**
   * A source fed by code, and its feed: one object for the engine's {@link ManualEventSource}.
   *
   * @param source what the run starts and closes
   * @param feed what the run gives events to
   */
  record Fed(EventSource<String, String> source, EventSink<String, String> feed) { }

  /**
   * A source that calls {@code lister} every {@code interval} on {@code scheduler} and delivers
   * what changed, as {@link PollingEventSource} does.
   *
   * @param lister the store's listing
   * @param interval the time between listings
   * @param scheduler runs the listings
   * @return the source, not started
   */
  default EventSource<String, String> polling(
      Callable<? extends Map<String, Versioned<String>>> lister, Duration interval,
      Scheduler scheduler) {
    return PollingEventSource.of("property", lister, interval, scheduler);
  }

  /**
   * A source fed by code, as {@link ManualEventSource} is.
   *
   * @return the source and its feed, not started
   */
  default Fed manual() {
    ManualEventSource<String, String> source = new ManualEventSource<>();
    return new Fed(source, source);
  }

  /**
   * A source that reads one spec file per key in {@code directory}, as
   * {@link DirectoryEventSource} does.
   *
   * @param directory the folder
   * @param suffix the ending of spec files' names
   * @param parser turns a file's bytes into a spec
   * @param resyncInterval the time between full rescans
   * @param scheduler runs the watching and times the rescans
   * @return the source, not started
   */
  default EventSource<String, String> directory(Path directory, String suffix,
      SpecParser<String> parser, Duration resyncInterval, Scheduler scheduler) {
    return DirectoryEventSource.of(directory, suffix, parser, resyncInterval, scheduler);
  }

  /**
   * The engine's own sources.
   *
   * @return sources that override nothing
   */
  static SourcesUnderTest engine() {
    return new SourcesUnderTest() { };
  }
}
