package dev.statewright.harness.canary;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine's {@code PollingEventSource} with one of the bugs found in it put back: by the
 * black-box attack (fixed in 39bbe69) or by the event-source property itself.
 */
final class BrokenPollingSource implements EventSource<String, String> {
  /*
   * Overview: as the engine's: each poll lists, diffs against the last listing, delivers the
   * changes, and schedules the next poll after the interval.
   *
   * Concurrency: as the engine's: polls run one at a time, so `previous` is confined to them; a
   * poll delivers holding `delivering` and only if not closed, and close() takes that lock once.
   * DELIVERS_AFTER_CLOSE drops both, so a listing returned after close() is delivered.
   *
   * Ordering of this file: the flaws, fields, the EventSource methods, polling.
   */

  /** The bug put back. */
  enum Flaw {
    /** Catches Exception only: a lister's Error reaches the scheduler and polling stops. */
    ERROR_ESCAPES,
    /** Delivers a listing however late it returns: close() no longer stops its delivery. */
    DELIVERS_AFTER_CLOSE,
    /** Keeps a lister's Error from the scheduler but stops polling after it, for good. */
    STOPS_ON_ERROR,
    /** Goes on with a listing after its sink closed the source from inside it. */
    DELIVERS_PAST_SINK_CLOSE,
    /** Keeps a listing as delivered though its sink threw part way: a later delete is lost. */
    TRUSTS_A_SINK_THAT_THREW
  }

  private final Flaw flaw;
  private final Callable<? extends Map<String, Versioned<String>>> lister;
  private final Duration interval;
  private final Scheduler scheduler;
  private final ReentrantLock delivering = new ReentrantLock();
  private Map<String, Versioned<String>> previous; // confined to the polling task
  private long highest; // confined to the polling task
  private volatile EventSink<String, String> sink;
  private volatile Scheduler.Cancellable timer = () -> { };
  private volatile boolean closed;

  BrokenPollingSource(Flaw flaw, Callable<? extends Map<String, Versioned<String>>> lister,
      Duration interval, Scheduler scheduler) {
    this.flaw = flaw;
    this.lister = lister;
    this.interval = interval;
    this.scheduler = scheduler;
  }

  @Override
  public void start(EventSink<String, String> sink) {
    this.sink = sink;
    scheduler.execute(this::poll);
  }

  @Override
  public void close() {
    closed = true;
    if (flaw != Flaw.DELIVERS_AFTER_CLOSE) {
      delivering.lock();
      delivering.unlock();
    }
    timer.cancel();
  }

  private void poll() {
    if (closed) {
      return;
    }
    try {
      listAndDeliver();
    } catch (Exception e) {
      // logged by the engine; an Error goes past this when the flaw is ERROR_ESCAPES
    } catch (Error e) {
      if (flaw == Flaw.ERROR_ESCAPES) {
        throw e; // the bug
      } else if (flaw == Flaw.STOPS_ON_ERROR) {
        return; // the bug: no next poll
      }
    }
    if (!closed) {
      timer = scheduler.schedule(this::poll, interval);
    }
  }

  private void listAndDeliver() throws Exception {
    Map<String, Versioned<String>> listing = Map.copyOf(lister.call());
    delivering.lock();
    try {
      if (flaw == Flaw.DELIVERS_AFTER_CLOSE || !closed) { // the bug: the check left out
        deliver(listing);
      }
    } finally {
      delivering.unlock();
    }
  }

  private void deliver(Map<String, Versioned<String>> current) {
    Map<String, Versioned<String>> last = previous;
    previous = flaw == Flaw.TRUSTS_A_SINK_THAT_THREW ? new HashMap<>(current) : null; // the bug
    if (last == null || !current.keySet().containsAll(last.keySet())) {
      sink.resync(current);
    } else {
      for (Map.Entry<String, Versioned<String>> e : current.entrySet()) {
        if (toldNothingMore()) {
          return;
        }
        if (!e.getValue().equals(last.get(e.getKey()))) {
          sink.upsert(e.getKey(), e.getValue().value(), e.getValue().version());
        }
      }
    }
    if (toldNothingMore()) {
      return;
    }
    previous = new HashMap<>(current);
    current.values().forEach(v -> highest = Math.max(highest, v.version()));
    sink.progress(highest);
  }

  /** Whether the sink closed the source during this delivery (unless that is the bug). */
  private boolean toldNothingMore() {
    return closed && flaw != Flaw.DELIVERS_AFTER_CLOSE && flaw != Flaw.DELIVERS_PAST_SINK_CLOSE;
  }
}
