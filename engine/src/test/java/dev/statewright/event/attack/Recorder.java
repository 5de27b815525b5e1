package dev.statewright.event.attack;

import dev.statewright.event.EventSink;
import dev.statewright.event.Versioned;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * A sink that writes every call down, keeps the view a sink would hold (key to spec and version),
 * and lets a test wait, bounded, on a condition it is signalled about (no sleeping).
 */
class Recorder<S> implements EventSink<String, S> {
  /** Global order of calls: what a test compares "after close returned" against. */
  static final AtomicLong CLOCK = new AtomicLong();

  record Call(long tick, String kind, String key, Object spec, long version, Thread thread) { }

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  final List<Call> calls = new ArrayList<>();
  final Map<String, Versioned<S>> view = new HashMap<>();
  final List<String> violations = new ArrayList<>();
  long maxProgress = Long.MIN_VALUE;
  /** Per key, the highest version delivered so far. */
  final Map<String, Long> highest = new HashMap<>();

  private void record(String kind, String key, Object spec, long version, Runnable apply) {
    lock.lock();
    try {
      calls.add(new Call(CLOCK.incrementAndGet(), kind, key, spec, version, Thread.currentThread()));
      apply.run();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void checkVersion(String kind, String key, long version) {
    if (version <= maxProgress) {
      violations.add(kind + " " + key + " v" + version + " after progress " + maxProgress);
    }
    Long before = highest.get(key);
    if (before != null && version <= before) {
      violations.add(kind + " " + key + " v" + version + " after v" + before + " of the same key");
    }
    highest.put(key, version);
  }

  @Override
  public void upsert(String key, S spec, long version) {
    record("upsert", key, spec, version, () -> {
      if (spec == null) {
        violations.add("upsert " + key + " with a null spec");
      }
      checkVersion("upsert", key, version);
      view.put(key, new Versioned<>(spec == null ? nullSpec() : spec, version));
    });
  }

  @SuppressWarnings("unchecked")
  private S nullSpec() {
    return (S) "<null>";
  }

  @Override
  public void delete(String key, long version) {
    record("delete", key, null, version, () -> {
      checkVersion("delete", key, version);
      view.remove(key);
    });
  }

  @Override
  public void resync(Map<String, Versioned<S>> all) {
    Map<String, Versioned<S>> copy = new HashMap<>(all);
    record("resync", null, copy, -1, () -> {
      view.clear();
      view.putAll(copy);
    });
  }

  @Override
  public void resync(Map<String, Versioned<S>> all, long asOfVersion) {
    Map<String, Versioned<S>> copy = new HashMap<>(all);
    record("resync", null, copy, asOfVersion, () -> {
      view.clear();
      view.putAll(copy);
    });
  }

  @Override
  public void reject(String key, Exception problem) {
    record("reject", key, problem, -1, () -> { });
  }

  @Override
  public void dependencyChanged(Object dependency) {
    record("dependency", String.valueOf(dependency), null, -1, () -> { });
  }

  @Override
  public void progress(long version) {
    record("progress", null, null, version, () -> maxProgress = Math.max(maxProgress, version));
  }

  /** Waits until {@code condition} holds on this recorder; false after {@code timeout}. */
  boolean await(Duration timeout, Predicate<Recorder<S>> condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      while (!condition.test(this)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code read} under the recorder's lock. */
  <T> T read(java.util.function.Function<Recorder<S>, T> read) {
    lock.lock();
    try {
      return read.apply(this);
    } finally {
      lock.unlock();
    }
  }

  /** The spec the view holds for {@code key}, or null. */
  S spec(String key) {
    return read(r -> {
      Versioned<S> v = r.view.get(key);
      return v == null ? null : v.value();
    });
  }

  boolean hasCall(String kind, String key) {
    return read(r -> r.calls.stream().anyMatch(c -> c.kind().equals(kind) && key.equals(c.key())));
  }

  long callsAfter(long tick) {
    return read(r -> r.calls.stream().filter(c -> c.tick() > tick).count());
  }

  long count(String kind) {
    return read(r -> r.calls.stream().filter(c -> c.kind().equals(kind)).count());
  }

  /** The view as key to spec text. */
  Map<String, String> specs() {
    lock.lock();
    try {
      Map<String, String> m = new java.util.TreeMap<>();
      view.forEach((k, v) -> m.put(k, String.valueOf(v.value())));
      return m;
    } finally {
      lock.unlock();
    }
  }

  List<Call> callsCopy() {
    lock.lock();
    try {
      return List.copyOf(calls);
    } finally {
      lock.unlock();
    }
  }

  List<Call> callsAfterTick(long tick) {
    return callsCopy().stream().filter(c -> c.tick() > tick).toList();
  }

  boolean anyResyncHolds(String key) {
    return callsCopy().stream().filter(c -> c.kind().equals("resync"))
        .anyMatch(c -> ((Map<?, ?>) c.spec()).containsKey(key));
  }

  List<String> violations() {
    return read(r -> List.copyOf(r.violations));
  }
}
