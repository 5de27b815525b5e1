package dev.statewright.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Writes every event down as a line; tests wait (bounded) for the line they expect. */
final class RecordingSink<S> implements EventSink<String, S> {
  final BlockingQueue<String> events = new LinkedBlockingQueue<>();
  /** Progress reports, kept apart so that event sequences read as before. */
  final List<Long> progress = new java.util.concurrent.CopyOnWriteArrayList<>();

  @Override
  public void upsert(String key, S spec, long version) {
    events.add("upsert " + key + " v" + version + " " + spec);
  }

  @Override
  public void delete(String key, long version) {
    events.add("delete " + key + " v" + version);
  }

  @Override
  public void resync(Map<String, Versioned<S>> all) {
    Map<String, String> sorted = new TreeMap<>();
    all.forEach((k, v) -> sorted.put(k, v.value() + "@v" + v.version()));
    events.add("resync " + sorted);
  }

  @Override
  public void reject(String key, Exception problem) {
    events.add("reject " + key + ": " + problem.getMessage());
  }

  @Override
  public void dependencyChanged(Object dependency) {
    events.add("dependency " + dependency);
  }

  @Override
  public void progress(long version) {
    progress.add(version);
  }

  /** Waits up to 10 s for an event starting with {@code prefix}; returns it and drops the ones before. */
  String await(String prefix) throws InterruptedException {
    List<String> skipped = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (;;) {
      String event = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      assertThat(event).as("an event starting with '%s' (saw %s)", prefix, skipped).isNotNull();
      if (event.startsWith(prefix)) {
        return event;
      }
      skipped.add(event);
    }
  }
}
