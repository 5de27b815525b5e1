package dev.statewright.harness.canary;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The engine's {@code ManualEventSource} (as of 39bbe69), cut to the events the property gives,
 * with one of the backlog bugs found by the black-box attack put back.
 */
final class BrokenManualSource implements EventSource<String, String>, EventSink<String, String> {
  /*
   * Overview: events given before start are queued as closures over the sink and replayed, in
   * order, by start; after that each event is delivered at once; after close, refused.
   *
   * Concurrency: one monitor (`lock`) guards the queue, the sink and `closed`; delivery runs
   * under it, and a sink that calls back in on the same thread re-enters it.
   *
   * Ordering of this file: the flaws, fields, start, the events, close, delivery.
   */

  /** The bug put back. */
  enum Flaw {
    /** Replays the queue itself, which a sink's close() clears: start() throws CME. */
    REPLAYS_LIVE_BACKLOG,
    /** Replays a copy of the queue without looking at `closed`: a sink that closed is told more. */
    REPLAYS_PAST_CLOSE
  }

  private final Flaw flaw;
  private final Object lock = new Object();
  private final List<Consumer<EventSink<String, String>>> pending = new ArrayList<>(); // guarded by lock
  private EventSink<String, String> sink; // guarded by lock
  private boolean closed; // guarded by lock

  BrokenManualSource(Flaw flaw) {
    this.flaw = flaw;
  }

  @Override
  public void start(EventSink<String, String> sink) {
    synchronized (lock) {
      this.sink = sink;
      if (flaw == Flaw.REPLAYS_LIVE_BACKLOG) {
        for (Consumer<EventSink<String, String>> event : pending) { // the bug: close() clears it
          event.accept(sink);
        }
      } else {
        for (Consumer<EventSink<String, String>> event : List.copyOf(pending)) {
          event.accept(sink); // the bug: no look at `closed` between events
        }
      }
      pending.clear();
    }
  }

  @Override
  public void upsert(String key, String spec, long version) {
    give(sink -> sink.upsert(key, spec, version));
  }

  @Override
  public void delete(String key, long version) {
    give(sink -> sink.delete(key, version));
  }

  @Override
  public void resync(Map<String, Versioned<String>> all) {
    Map<String, Versioned<String>> copy = Map.copyOf(all);
    give(sink -> sink.resync(copy));
  }

  @Override
  public void progress(long version) {
    give(sink -> sink.progress(version));
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      pending.clear();
    }
  }

  private void give(Consumer<EventSink<String, String>> event) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("this source is closed");
      }
      if (sink == null) {
        pending.add(event);
      } else {
        event.accept(sink);
      }
    }
  }
}
