package dev.statewright.harness.cluster;

import dev.statewright.event.EventSink;
import dev.statewright.event.Versioned;
import dev.statewright.harness.cache.SimSpec;
import dev.statewright.harness.sim.SimulatedScheduler;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Carries one versioned stream to one node the way a network does: each event is dropped,
 * duplicated or delayed (so reordered) at random, nothing gets through while the node is
 * partitioned, and the source relists (resyncs) at an interval and when a partition heals. A
 * relist is delayed like any event, so it may arrive after newer events: stale.
 */
final class FaultyChannel {
  private final SimulatedScheduler scheduler;
  private final SplittableRandom random;
  private final EventSink<String, SimSpec> sink;
  private final Supplier<Map<String, Versioned<SimSpec>>> truth;
  private final LongSupplier revision;
  private final boolean saysItsVersion;
  private final String node;
  private long partitionedUntil;

  /**
   * A channel to {@code sink}; relists read {@code truth} and, if {@code saysItsVersion}, tell the
   * sink the {@code revision} they were taken at.
   */
  FaultyChannel(String node, SimulatedScheduler scheduler, SplittableRandom random,
      EventSink<String, SimSpec> sink, Supplier<Map<String, Versioned<SimSpec>>> truth,
      LongSupplier revision, boolean saysItsVersion) {
    this.node = node;
    this.revision = revision;
    this.saysItsVersion = saysItsVersion;
    this.scheduler = scheduler;
    this.random = random;
    this.sink = sink;
    this.truth = truth;
  }

  void upsert(String key, long version) {
    send("upsert " + key + " v" + version, () -> sink.upsert(key, new SimSpec(version), version));
  }

  void delete(String key, long version) {
    send("delete " + key + " v" + version, () -> sink.delete(key, version));
  }

  /** Cuts the node off for {@code length}, then relists it. */
  void partition(Duration length) {
    partitionedUntil = scheduler.nanoTime() + length.toNanos();
    scheduler.schedule(this::relist, length, node + ": partition heals");
  }

  /** Relists now and every {@code interval} after. */
  void relistEvery(Duration interval) {
    scheduler.schedule(() -> {
      relist();
      relistEvery(interval);
    }, interval, node + ": periodic relist");
  }

  private void relist() {
    if (!partitioned()) {
      Map<String, Versioned<SimSpec>> all = truth.get();
      long asOf = revision.getAsLong();
      scheduler.schedule(() -> {
        if (saysItsVersion) {
          sink.resync(all, asOf);
        } else {
          sink.resync(all);
        }
      }, delay(), node + ": resync");
    }
  }

  private void send(String what, Runnable event) {
    if (partitioned() || random.nextDouble() < 0.1) {
      return; // dropped
    }
    scheduler.schedule(event, delay(), node + ": " + what);
    if (random.nextDouble() < 0.1) {
      scheduler.schedule(event, delay(), node + ": " + what + " (duplicate)");
    }
  }

  private boolean partitioned() {
    return scheduler.nanoTime() < partitionedUntil;
  }

  private Duration delay() {
    return Duration.ofMillis(random.nextInt(3_000));
  }
}
