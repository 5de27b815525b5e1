package dev.statewright.harness.canary;

import dev.statewright.event.DirectoryEventSource.SpecParser;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.harness.event.EventSourceProperty;
import dev.statewright.harness.event.SourcesUnderTest;
import dev.statewright.time.Scheduler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The event-source bug classes found so far, kept caught: by the black-box attack (fixed in
 * 39bbe69) the polling source's Error (escaping, and stopping the polling), its delivery after
 * close, the directory source's parser Error, and the programmatic source's backlog replay past a
 * close; by this property, the polling source's delivery past its sink's close and its trust in a
 * sink that threw.
 */
final class EventSourceCanaries {
  private EventSourceCanaries() { }

  static List<Canary> all() {
    return List.of(
        Canary.ofEvents("polling-error-escapes", "a polling source whose lister's Error reaches "
            + "the scheduler's thread and stops the polling for good",
            property(polling(BrokenPollingSource.Flaw.ERROR_ESCAPES)), "E2:"),
        Canary.ofEvents("polling-delivers-after-close", "a polling source that delivers a listing "
            + "returned after close() (raced, or by a lister that closed its own source)",
            property(polling(BrokenPollingSource.Flaw.DELIVERS_AFTER_CLOSE)), "E1:"),
        Canary.ofEvents("polling-stops-on-error", "a polling source that keeps a lister's Error "
            + "from the scheduler but never polls again after it",
            property(polling(BrokenPollingSource.Flaw.STOPS_ON_ERROR)), "E3:"),
        Canary.ofEvents("polling-delivers-past-sink-close", "the property's find: a polling "
            + "source that goes on with a listing after its sink closed the source inside it",
            property(polling(BrokenPollingSource.Flaw.DELIVERS_PAST_SINK_CLOSE)), "E5:"),
        Canary.ofEvents("polling-trusts-a-sink-that-threw", "the property's find: a polling "
            + "source that counts a listing delivered though its sink threw part way, so a key the "
            + "sink took in is never deleted when it vanishes",
            property(polling(BrokenPollingSource.Flaw.TRUSTS_A_SINK_THAT_THREW)), "E3:"),
        Canary.ofEvents("directory-parser-error-escapes", "a directory source whose parser's "
            + "Error comes out of start() or kills its rescans",
            property(directory()), "E2:"),
        Canary.ofEvents("manual-backlog-cme", "a programmatic source whose start() replays its "
            + "backlog live, so a sink that closes the source makes start() throw CME",
            property(manual(BrokenManualSource.Flaw.REPLAYS_LIVE_BACKLOG)), "E4:"),
        Canary.ofEvents("manual-backlog-past-close", "a programmatic source whose start() goes on "
            + "replaying its backlog to a sink that closed the source",
            property(manual(BrokenManualSource.Flaw.REPLAYS_PAST_CLOSE)), "E5:"));
  }

  /** The engine's property, with the canary's sources in place of the engine's. */
  private static EventSourceProperty property(SourcesUnderTest sources) {
    return new EventSourceProperty("canary event sources", sources);
  }

  private static SourcesUnderTest polling(BrokenPollingSource.Flaw flaw) {
    return new SourcesUnderTest() {
      @Override
      public EventSource<String, String> polling(
          Callable<? extends Map<String, Versioned<String>>> lister, Duration interval,
          Scheduler scheduler) {
        return new BrokenPollingSource(flaw, lister, interval, scheduler);
      }
    };
  }

  private static SourcesUnderTest directory() {
    return new SourcesUnderTest() {
      @Override
      public EventSource<String, String> directory(Path directory, String suffix,
          SpecParser<String> parser, Duration resyncInterval, Scheduler scheduler) {
        return new BrokenDirectorySource(directory, suffix, parser, resyncInterval, scheduler);
      }
    };
  }

  private static SourcesUnderTest manual(BrokenManualSource.Flaw flaw) {
    return new SourcesUnderTest() {
      @Override
      public Fed manual() {
        BrokenManualSource source = new BrokenManualSource(flaw);
        return new Fed(source, source);
      }
    };
  }
}
