package dev.statewright.harness.cache;

import dev.statewright.cache.AsyncClientFactory;
import dev.statewright.cache.Backoff;
import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Wave;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import dev.statewright.lifecycle.Transition;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * C14 as a randomised scenario: six to forty dependents of one secret, a wave of one to three
 * canaries and one to three builds per half-second to three seconds, a bulkhead of one to four,
 * and a timeline of secret changes (some to a bad secret, which fails every build that starts
 * while it holds), transient build failures, deletes and spec changes of dependents, changes
 * arriving mid-wave, all on a {@link SimulatedScheduler} with a seeded strategy. Judged by a
 * {@link WaveMonitor}. Each run follows from its seed.
 */
public final class WaveProperty {
  /** The dependency every dependent reads. */
  public static final String SECRET = "secret/rotated";

  private final String name;
  private final Rollout rollout;

  /**
   * A dependent's spec.
   *
   * @param key its key (a spec's dependencies are read from the spec alone)
   * @param version its version
   */
  public record Spec(String key, long version) { }

  /**
   * A client: which key it serves and how many builds had started before its own.
   *
   * @param key the key
   * @param startedAs builds started before it, itself included
   */
  public record Client(String key, long startedAs) { }

  /** How a change of the secret reaches its dependents: the engine's wave, or a broken one. */
  public interface Rollout {
    /**
     * The wave the cache is built with, given the wave the run wants.
     *
     * @param wanted the wave this run drew
     * @return the wave to build the cache with ({@link Wave#all()} for a rollout of its own)
     */
    Wave engineWave(Wave wanted);

    /**
     * Announces a change of the secret to {@code cache}, whose dependents are {@code keys}.
     *
     * @param cache the cache under test
     * @param keys the secret's dependents, in the order the run created them
     * @param scheduler the run's simulated scheduler, for rollouts that pace themselves
     * @param wanted the wave this run drew
     * @return completes as {@code dependencyChanged}'s future does: when every dependent serves
     *     a client built after the change, or with the error that stopped the wave
     */
    CompletableFuture<Void> secretChanged(ClientCache<String, Spec, Client> cache, List<String> keys,
        Scheduler scheduler, Wave wanted);
  }

  /**
   * The property for {@code rollout}, under {@code name}.
   *
   * @param name the property's name, as explore and failures print it
   * @param rollout how a change of the secret reaches its dependents
   */
  public WaveProperty(String name, Rollout rollout) {
    this.name = name;
    this.rollout = rollout;
  }

  /**
   * The property of the engine's own waves.
   *
   * @return the property whose rollout is the cache's {@code dependencyChanged}
   */
  public static WaveProperty waves() {
    return new WaveProperty("dependency waves", new Rollout() {
      @Override
      public Wave engineWave(Wave wanted) {
        return wanted;
      }

      @Override
      public CompletableFuture<Void> secretChanged(ClientCache<String, Spec, Client> cache,
          List<String> keys, Scheduler scheduler, Wave wanted) {
        return cache.dependencyChanged(SECRET);
      }
    });
  }

  /**
   * The dependency only {@code key} reads, for rollouts that rebuild one key at a time.
   *
   * @param key a dependent's key
   * @return the name of the dependency that key alone reads
   */
  public static String own(String key) {
    return "own/" + key;
  }

  /**
   * The property's name.
   *
   * @return the name given at construction
   */
  public String name() {
    return name;
  }

  /**
   * One run.
   *
   * @param seed the run seed; the same seed replays the same run
   * @return the violations seen, empty if the run passed
   */
  public List<String> run(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    SimulatedScheduler sim = new SimulatedScheduler(random.nextLong(),
        random.nextBoolean() ? Strategy.random() : Strategy.pct(3));
    int dependents = 6 + random.nextInt(35);
    Wave wave = Wave.canaryFirst(1 + random.nextInt(3))
        .thenAtMost(1 + random.nextInt(3), Duration.ofMillis(500L * (1 + random.nextInt(6))));
    return new Run(sim, random, dependents, wave).run();
  }

  /** One run's world: the cache, its factory, the timeline and the monitor. */
  private final class Run {
    final SimulatedScheduler sim;
    final SplittableRandom random;
    final Wave wave;
    final WaveMonitor monitor;
    final List<String> keys = new ArrayList<>();
    final List<String> live = new ArrayList<>();
    final Map<String, Long> version = new HashMap<>();
    final Map<String, Long> specChangedAt = new HashMap<>();
    final Map<String, Long> markedAtStart = new HashMap<>();
    final Map<String, Client> served = new HashMap<>();
    long starts;
    boolean secretBad;
    ClientCache<String, Spec, Client> cache;

    Run(SimulatedScheduler sim, SplittableRandom random, int dependents, Wave wave) {
      this.sim = sim;
      this.random = random;
      this.wave = wave;
      this.monitor = new WaveMonitor(wave, sim);
      for (int i = 0; i < dependents; i++) {
        keys.add("d" + i);
      }
    }

    List<String> run() {
      cache = ClientCache.asyncBuilder(factory())
          .name("waves")
          .scheduler(sim)
          .maxConcurrentBuilds(1 + random.nextInt(4))
          .backoff(Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5)))
          .buildTimeout(Duration.ofSeconds(30))
          .dependsOn(spec -> Set.of(SECRET, own(spec.key())))
          .dependencyWave(rollout.engineWave(wave))
          .listener(new CacheListener<>() {
            @Override
            public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
              if (t.event() == EntryEvent.DEPENDENCY_CHANGED) {
                markedAtStart.put(key, starts);
                monitor.marked(key);
              }
            }
          })
          .build();
      sim.schedule(() -> keys.forEach(k -> upsert(k, 1)), Duration.ZERO);
      long at = 2_000;
      int events = 4 + random.nextInt(6);
      for (int i = 0; i < events; i++) {
        at += random.nextInt(i == 0 ? 1 : 8_000);
        int dice = random.nextInt(100);
        Runnable event = dice < 55 ? this::changeSecret : dice < 75 ? this::deleteOne : this::changeOne;
        sim.schedule(event, Duration.ofMillis(at));
      }
      sim.run(Duration.ofMinutes(30), 2_000_000);
      sim.schedule(this::readServed, Duration.ZERO);
      sim.run(Duration.ofSeconds(1), 100_000);
      List<String> violations = new ArrayList<>(monitor.finish(live,
          k -> served.containsKey(k) ? served.get(k).startedAs() : -1,
          k -> markedAtStart.getOrDefault(k, 0L),
          k -> cache.snapshot(k).flatMap(s -> s.lastError()).isPresent(),
          (k, t) -> specChangedAt.getOrDefault(k, Long.MIN_VALUE) >= t));
      sim.schedule(cache::close, Duration.ZERO);
      sim.run(Duration.ofSeconds(1), 100_000);
      return violations;
    }

    /** Builds after 10–200 ms; fails when the secret is bad at its start, and 5 % of the time. */
    AsyncClientFactory<String, Spec, Client> factory() {
      return (key, spec) -> {
        long startedAs = ++starts;
        boolean afterMark = monitor.startsAfterMark(key);
        WaveMonitor.Run of = monitor.current();
        boolean bad = secretBad;
        boolean flaky = sim.random().nextInt(100) < 5;
        CompletableFuture<Client> built = new CompletableFuture<>();
        sim.schedule(() -> {
          IOException error = bad ? new IOException("401: the secret is wrong")
              : flaky ? new IOException("connection reset") : null;
          if (live.contains(key)) { // a deleted canary is neither a success nor a failure
            monitor.buildEnded(key, afterMark, of, error);
          }
          if (error != null) {
            built.completeExceptionally(error);
          } else {
            built.complete(new Client(key, startedAs));
          }
        }, Duration.ofMillis(10 + sim.random().nextInt(190)));
        return built;
      };
    }

    void upsert(String key, long v) {
      version.put(key, v);
      if (!live.contains(key)) {
        live.add(key);
      }
      cache.upsert(key, new Spec(key, v), v);
    }

    void changeSecret() {
      secretBad = random.nextInt(100) < 40;
      WaveMonitor.Run run = monitor.changing(starts);
      CompletableFuture<Void> future;
      try {
        future = rollout.secretChanged(cache, List.copyOf(live), sim, wave);
      } finally {
        monitor.changed();
      }
      future.whenComplete((v, error) -> monitor.futureDone(run, error));
    }

    void deleteOne() {
      if (live.size() > 1) {
        String key = live.remove(random.nextInt(live.size()));
        cache.delete(key, version.get(key) + 1);
      }
    }

    void changeOne() {
      if (!live.isEmpty()) {
        String key = live.get(random.nextInt(live.size()));
        specChangedAt.put(key, sim.nanoTime());
        upsert(key, version.get(key) + 1);
      }
    }

    void readServed() {
      for (String key : live) {
        cache.acquireAsync(key, 0).thenAccept(lease -> {
          served.put(key, lease.get());
          lease.close();
        });
      }
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
