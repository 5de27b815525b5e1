package dev.statewright.harness.canary;

import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.harness.event.EventSourceProperty;
import dev.statewright.harness.event.SourcesUnderTest;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The event-source bug classes the black-box attack found (fixed in 39bbe69), kept caught, and
 * one lost update that keeps the check no attack finding exercises biting.
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
        Canary.ofEvents("polling-loses-refused-update", "a polling source that takes a listing "
            + "as delivered before the sink has taken it in, so a refused update is never sent "
            + "again (keeps E3's lost-update check biting)",
            property(polling(BrokenPollingSource.Flaw.MARKS_BEFORE_DELIVERING)), "E3:"),
        Canary.ofEvents("manual-backlog-cme", "a programmatic source whose start() replays its "
            + "backlog live, so a sink that closes the source makes start() throw CME",
            property(manual(BrokenManualSource.Flaw.REPLAYS_LIVE_BACKLOG)), "E4:"),
        Canary.ofEvents("manual-backlog-past-close", "a programmatic source whose start() goes on "
            + "replaying its backlog to a sink that closed the source",
            property(manual(BrokenManualSource.Flaw.REPLAYS_PAST_CLOSE)), "E5:"));
  }

  private static EventSourceProperty property(SourcesUnderTest sources) {
    return new EventSourceProperty("canary event sources", sources, true);
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
