package dev.statewright.harness.cluster;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.event.EventSink;
import dev.statewright.event.ManualEventSource;
import dev.statewright.event.Versioned;
import dev.statewright.harness.cache.CacheMonitor;
import dev.statewright.harness.cache.CacheUnderTest;
import dev.statewright.harness.cache.RealCache;
import dev.statewright.harness.cache.SimClient;
import dev.statewright.harness.cache.SimFactory;
import dev.statewright.harness.cache.SimSpec;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Several {@link ClientCache} nodes fed by one versioned stream, each through its own
 * {@link FaultyChannel}: drops, duplicates, delays that reorder, and partitions that heal;
 * relists say their version on every other node and not on the rest. Every run follows from its
 * seed. After the last partition heals and the nodes settle, every node must
 * serve exactly the newest version of every live key and nothing of deleted ones; while it runs,
 * no node may serve a version lower than it served before (C2), and every node's listing must
 * match the clients it hands out (C5); the per-node monitors check C1, C3, C6 and C8 too.
 */
public final class ClusterSimulation {
  private static final int NODES = 3;
  private static final int KEYS = 5;
  private static final int EVENTS = 80;
  private static final Duration WRITING = Duration.ofMinutes(1);

  private ClusterSimulation() { }

  /**
   * One run.
   *
   * @param seed the run's seed
   * @return the violations seen (empty if it passed)
   */
  public static List<String> run(long seed) {
    return run(seed, true);
  }

  /** One run; without {@code relist} lost events are never made up for (a canary of sorts). */
  static List<String> run(long seed, boolean relist) {
    SplittableRandom random = new SplittableRandom(seed);
    SimulatedScheduler scheduler = new SimulatedScheduler(seed, Strategy.random());
    TreeMap<String, Long> live = new TreeMap<>();
    List<Node> nodes = new ArrayList<>();
    long[] revision = {0};
    for (int n = 0; n < NODES; n++) {
      FaultyChannelFactory channel = (name, sink) -> new FaultyChannel(name, scheduler, random.split(),
          sink, () -> truth(live), () -> revision[0], nodes.size() % 2 == 0);
      nodes.add(new Node("node-" + n, scheduler, channel, relist));
    }
    scheduler.afterEachStep(() -> nodes.forEach(node -> node.monitor.afterStep()));
    writeStream(scheduler, random, live, nodes, revision);
    for (Node node : nodes) {
      if (random.nextBoolean()) {
        Duration start = Duration.ofMillis(random.nextLong(WRITING.toMillis()));
        scheduler.schedule(() -> node.channel.partition(Duration.ofSeconds(5 + random.nextInt(30))),
            start, node.name + ": partition");
      }
    }
    List<String> violations = new ArrayList<>();
    try {
      scheduler.run(WRITING.plus(Duration.ofMinutes(3)), 2_000_000);
    } catch (RuntimeException e) {
      violations.add("a node threw at step " + scheduler.steps() + ": " + e);
    }
    for (Node node : nodes) {
      violations.addAll(node.converged(live));
      violations.addAll(node.finish());
    }
    return violations;
  }

  private static void writeStream(SimulatedScheduler scheduler, SplittableRandom random,
      TreeMap<String, Long> live, List<Node> nodes, long[] revision) {
    for (int i = 0; i < EVENTS; i++) {
      Duration at = Duration.ofMillis(random.nextLong(WRITING.toMillis()));
      String key = "key-" + random.nextInt(KEYS);
      boolean delete = random.nextInt(4) == 0;
      scheduler.schedule(() -> {
        long version = ++revision[0];
        if (delete && live.remove(key) != null) {
          nodes.forEach(node -> node.channel.delete(key, version));
        } else if (!delete) {
          live.put(key, version);
          nodes.forEach(node -> node.channel.upsert(key, version));
        }
      }, at, "writer");
    }
  }

  private static Map<String, Versioned<SimSpec>> truth(Map<String, Long> live) {
    Map<String, Versioned<SimSpec>> all = new HashMap<>();
    live.forEach((key, version) -> all.put(key, Versioned.of(new SimSpec(version), version)));
    return all;
  }

  /** Opens a node's channel to its sink. */
  private interface FaultyChannelFactory {
    FaultyChannel open(String node, EventSink<String, SimSpec> sink);
  }

  /** One node: its cache, monitor and channel. */
  private static final class Node {
    final String name;
    final CacheMonitor monitor = new CacheMonitor(2, true);
    final ClientCache<String, SimSpec, SimClient> cache;
    final CacheUnderTest view;
    final FaultyChannel channel;

    Node(String name, SimulatedScheduler scheduler, FaultyChannelFactory channels, boolean relist) {
      this.name = name;
      ManualEventSource<String, SimSpec> source = new ManualEventSource<>();
      this.cache = ClientCache.asyncBuilder(new SimFactory(scheduler, monitor, Duration.ofMillis(500)))
          .name(name).scheduler(scheduler).maxConcurrentBuilds(2)
          .tombstoneRetention(Duration.ofDays(1)).source(source).build();
      this.view = new RealCache(cache);
      List<String> keys = new ArrayList<>();
      for (int k = 0; k < KEYS; k++) {
        keys.add("key-" + k);
      }
      monitor.watch(view, keys);
      this.channel = channels.open(name, source);
      if (relist) {
        channel.relistEvery(Duration.ofSeconds(30));
      }
    }

    List<String> converged(Map<String, Long> live) {
      List<String> wrong = new ArrayList<>();
      for (int k = 0; k < KEYS; k++) {
        String key = "key-" + k;
        Long expected = live.get(key);
        Optional<CacheUnderTest.View> seen = view.view(key);
        if (expected == null && seen.isPresent()) {
          wrong.add(name + ": deleted " + key + " is still served (v" + seen.get().servedVersion() + ")");
        } else if (expected != null && (seen.isEmpty() || seen.get().servedVersion() != expected)) {
          wrong.add(name + ": " + key + " serves " + seen.map(v -> "v" + v.servedVersion()).orElse("nothing")
              + ", the newest is v" + expected);
        } else if (expected != null) {
          CompletableFuture<ClientLease<SimClient>> lease = cache.acquireAsync(key, expected);
          if (!lease.isDone() || lease.join().get().version() != expected) {
            wrong.add(name + ": C5: the listing of " + key + " shows v" + expected
                + " but acquire does not hand out that client");
          }
          lease.thenAccept(ClientLease::close);
        }
      }
      return wrong;
    }

    List<String> finish() {
      try {
        return monitor.finish(List.of()).stream().map(v -> name + ": " + v).toList();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return List.of(name + ": interrupted");
      }
    }
  }
}
