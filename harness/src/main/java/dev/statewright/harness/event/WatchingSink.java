package dev.statewright.harness.event;

import dev.statewright.event.EventSink;
import dev.statewright.event.Versioned;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The sink every run of {@link EventSourceProperty} delivers to: it keeps the state the events
 * add up to, reports a delivery made after its source was closed (E1, E5), and before taking
 * each event in runs the run's hostile reaction (throw, refusing the event; or close the source).
 */
final class WatchingSink implements EventSink<String, String> {
  /*
   * Overview: each sink method checks the closed flags, runs the reaction, then applies the event
   * to `view`.
   *
   * Concurrency: deliveries may come from a pool thread while the run's thread closes the source.
   * `view` and `reported` are guarded by this; the closed flags are volatile, set by the run right
   * after the close() it made returned, so a delivery that sees one began after that return.
   * The reaction runs outside the monitor: it may close the source, which may wait for a delivery.
   *
   * Ordering of this file: fields, the flags, the sink methods, the checks.
   */
  private final List<String> violations;
  private final Map<String, Versioned<String>> view = new HashMap<>(); // guarded by this
  private boolean reported; // guarded by this: one E1 or E5 a run is evidence enough
  private volatile Consumer<String> reaction = event -> { };
  private volatile boolean closedOutside;
  private volatile boolean closedBySink;

  WatchingSink(List<String> violations) {
    this.violations = violations;
  }

  /** From now on, {@code reaction} runs after each event is taken in; it may throw. */
  void react(Consumer<String> reaction) {
    this.reaction = reaction;
  }

  /** A close() made outside any delivery has returned: nothing may reach this sink now. */
  void closedOutside() {
    closedOutside = true;
  }

  /** A close() this sink made from inside a delivery has returned: it is told nothing more. */
  void closedBySink() {
    closedBySink = true;
  }

  boolean closed() {
    return closedOutside || closedBySink;
  }

  synchronized Map<String, Versioned<String>> view() {
    return Map.copyOf(view);
  }

  @Override
  public void upsert(String key, String spec, long version) {
    take("upsert " + key + " v" + version, () -> view.put(key, Versioned.of(spec, version)));
  }

  @Override
  public void delete(String key, long version) {
    take("delete " + key + " v" + version, () -> view.remove(key));
  }

  @Override
  public void resync(Map<String, Versioned<String>> all) {
    take("resync of " + all.size() + " keys", () -> {
      view.clear();
      view.putAll(all);
    });
  }

  @Override
  public void progress(long version) {
    take("progress v" + version, () -> { });
  }

  private void take(String event, Runnable apply) {
    synchronized (this) {
      if (!reported && closedOutside) {
        reported = violations.add("E1: " + event + " reached the sink after close() returned");
      } else if (!reported && closedBySink) {
        reported = violations.add("E5: " + event + " reached the sink after the sink closed its"
            + " source");
      }
    }
    reaction.accept(event); // a throw here refuses the event
    synchronized (this) {
      apply.run();
    }
  }
}
