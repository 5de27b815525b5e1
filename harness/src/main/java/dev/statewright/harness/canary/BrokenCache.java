package dev.statewright.harness.canary;

import dev.statewright.harness.cache.CacheModel;
import dev.statewright.harness.cache.CacheUnderTest;
import dev.statewright.harness.cache.SimClient;
import dev.statewright.harness.cache.SimFactory;
import dev.statewright.harness.cache.SimSpec;
import dev.statewright.cache.ClientLease;
import dev.statewright.lease.Lease;
import dev.statewright.lease.LeasedResource;
import dev.statewright.time.Scheduler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The shared body of the cache canaries: a map of slots, each with its desired version, its
 * tombstone and its served client, and no state machine at all. Each canary overrides the one
 * thing it gets wrong. Single-threaded: canaries run on the simulated scheduler only.
 */
abstract class BrokenCache implements CacheUnderTest {
  final Scheduler scheduler;
  final SimFactory factory;
  final Map<String, Slot> slots = new HashMap<>();

  /** One key. */
  static final class Slot {
    long desired = -1;
    long tombstone = -1;
    boolean live;
    boolean building;
    LeasedResource<SimClient> served;
    long servedVersion = -1;
    long builtAt;
    Throwable lastError;
    boolean retryScheduled;
    final Map<CompletableFuture<Object>, Long> waiters = new HashMap<>();
    /** Clients served so far (C15). */
    long generation;
    /** The served client a user reported failing, until its replacement is served (C11). */
    LeasedResource<SimClient> broken;
    /** Completes when the invalidated client's replacement is served (or its build fails). */
    CompletableFuture<Object> repair;
  }

  /** Each served client's supersession stage, completed when it is replaced or removed (C10). */
  final Map<LeasedResource<SimClient>, CompletableFuture<Void>> superseded = new HashMap<>();

  BrokenCache(CacheModel.Wiring wiring) {
    this.scheduler = wiring.scheduler();
    this.factory = wiring.factory();
  }

  Slot slot(String key) {
    return slots.computeIfAbsent(key, k -> new Slot());
  }

  CompletionStage<SimClient> build(String key, long version) {
    return factory.build(key, new SimSpec(version));
  }

  /** Serves {@code client} in place of the old one, which closes after its last lease. */
  void serve(String key, SimClient client) {
    Slot s = slot(key);
    LeasedResource<SimClient> old = s.served;
    s.served = LeasedResource.of(key + "@v" + client.version(), client, SimClient::close, scheduler);
    superseded.put(s.served, new CompletableFuture<>());
    s.servedVersion = client.version();
    s.builtAt = scheduler.nanoTime();
    s.generation++;
    if (old != null) {
      replaced(old);
      tell(old);
    }
    answer(key, s);
  }

  /** Answers the waiters of {@code key} that its served version satisfies. */
  void answer(String key, Slot s) {
    s.waiters.entrySet().removeIf(w -> w.getValue() <= s.servedVersion && w.getKey().complete("ok"));
  }

  /** Completes "ok" once {@code version} or newer is served, "deleted" if the key goes first. */
  CompletionStage<Object> awaitServed(String key, long version) {
    Slot s = slot(key);
    CompletableFuture<Object> done = new CompletableFuture<>();
    if (s.servedVersion >= version) {
      done.complete("ok");
    } else {
      s.waiters.put(done, version);
    }
    return done;
  }

  /** What happens to a replaced client; right here, wrong in some canaries. */
  void replaced(LeasedResource<SimClient> old) {
    old.retire();
  }

  /** Tells the leases on {@code old} that it was replaced or removed; right here, never in one canary. */
  void tell(LeasedResource<SimClient> old) {
    CompletableFuture<Void> stage = superseded.remove(old);
    if (stage != null) {
      stage.complete(null);
    }
  }

  /** Builds {@code version} and serves it; completes "ok" when served. */
  CompletionStage<Object> buildAndServe(String key, long version) {
    Slot s = slot(key);
    s.building = true;
    return build(key, version).thenApply(client -> {
      s.building = false;
      serve(key, client);
      return "ok";
    });
  }

  @Override
  public CompletionStage<Object> delete(String key, long version) {
    Slot s = slot(key);
    if (s.live && version <= s.desired) {
      return CompletableFuture.completedFuture("stale");
    }
    s.live = false;
    s.tombstone = Math.max(s.tombstone, version);
    s.waiters.keySet().forEach(w -> w.complete("deleted"));
    s.waiters.clear();
    if (s.served != null) {
      s.served.retire();
      tell(s.served);
      s.served = null;
      s.servedVersion = -1;
    }
    return CompletableFuture.completedFuture("ok");
  }

  @Override
  public CompletionStage<ClientLease<SimClient>> acquire(String key) {
    Slot s = slots.get(key);
    if (s == null || !s.live || s.served == null) {
      return CompletableFuture.failedFuture(new NoSuchElementException(key));
    }
    if (s.broken == s.served && waitsForRepair()) { // strict: never the invalidated client (C11)
      return s.repair.thenCompose(repaired -> acquire(key));
    }
    return CompletableFuture.completedFuture(leaseOn(key, s.served));
  }

  /** Whether a strict acquire waits for an invalidated client's replacement; true but in a canary. */
  boolean waitsForRepair() {
    return true;
  }

  /** Whom a lease names; one fixed holder but in a canary. */
  String holder() {
    return "property";
  }

  private ClientLease<SimClient> leaseOn(String key, LeasedResource<SimClient> served) {
    Lease<SimClient> lease = served.acquire(holder());
    CompletableFuture<Void> stage = superseded.get(served);
    return new CanaryLease(lease, stage == null ? CompletableFuture.completedFuture(null) : stage,
        () -> invalidated(key, served));
  }

  @Override
  public CompletionStage<Object> invalidate(String key) {
    Slot s = slots.get(key);
    if (s == null || !s.live) {
      return CompletableFuture.completedFuture("none");
    }
    return CompletableFuture.completedFuture(s.served == null ? "nothing"
        : invalidated(key, s.served) ? "marked" : "nothing");
  }

  /** {@code client} failed in use: if still served, it is replaced by a rebuild of its version. */
  boolean invalidated(String key, LeasedResource<SimClient> client) {
    Slot s = slot(key);
    if (!s.live || s.served != client) {
      return false; // replaced already: changes nothing
    }
    s.lastError = new IllegalStateException("reported failing");
    if (s.broken != client) {
      s.broken = client;
      CompletableFuture<Object> repair = new CompletableFuture<>();
      s.repair = repair;
      rebuild(key).whenComplete((result, error) -> repair.complete("repaired"));
    }
    return true;
  }

  @Override
  public OptionalLong generation(String key) {
    Slot s = slots.get(key);
    return s == null ? OptionalLong.empty() : OptionalLong.of(s.generation);
  }

  @Override
  public CompletionStage<Object> rotate(String secret) {
    // rebuilds every live key, and completes when all of them serve the rebuilt client
    List<CompletableFuture<?>> rebuilt = new ArrayList<>();
    slots.forEach((key, s) -> {
      if (s.live && s.served != null) {
        rebuilt.add(rebuild(key).toCompletableFuture());
      }
    });
    return CompletableFuture.allOf(rebuilt.toArray(CompletableFuture[]::new)).thenApply(done -> "ok");
  }

  /** Builds the served version again; completes when the new client is served. */
  CompletionStage<Object> rebuild(String key) {
    Slot s = slot(key);
    return build(key, s.servedVersion).thenApply(client -> {
      if (s.live && client.version() >= s.servedVersion) {
        serve(key, client);
      } else {
        client.close();
      }
      return "ok";
    });
  }

  @Override
  public Optional<SimClient> servedClient(String key) {
    Slot s = slots.get(key);
    if (s == null || !s.live || s.served == null) {
      return Optional.empty();
    }
    try (Lease<SimClient> lease = s.served.acquire("monitor")) {
      return Optional.of(lease.get());
    }
  }

  @Override
  public Optional<View> view(String key) {
    Slot s = slots.get(key);
    return s == null || !s.live ? Optional.empty() : Optional.of(new View(s.desired, s.servedVersion,
        s.desired != s.servedVersion, s.retryScheduled, s.lastError != null));
  }

  @Override
  public void close() {
    slots.values().forEach(s -> { // removed first, then told, as a replacement is
      LeasedResource<SimClient> served = s.served;
      s.live = false;
      s.served = null;
      s.servedVersion = -1;
      if (served != null) {
        served.retire();
        tell(served);
      }
    });
  }

  /**
   * Lets an upsert of {@code version} in: false if a delete is newer; a re-add starts afresh.
   */
  boolean admit(Slot s, long version) {
    if (!s.live && version <= s.tombstone) {
      return false;
    }
    if (!s.live) {
      s.live = true;
      s.desired = -1;
    }
    return true;
  }

  static CompletionStage<Object> stale() {
    return CompletableFuture.completedFuture("stale");
  }
}
