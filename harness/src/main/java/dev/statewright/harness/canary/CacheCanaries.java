package dev.statewright.harness.canary;

import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.harness.cache.HostileListener;
import dev.statewright.lifecycle.Transition;
import dev.statewright.harness.cache.CacheModel;
import dev.statewright.harness.cache.CacheUnderTest;
import dev.statewright.harness.cache.SimClient;
import dev.statewright.harness.cache.SimSpec;
import java.io.IOException;
import dev.statewright.lease.Lease;
import dev.statewright.lease.LeasedResource;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** The cache bug classes the harness must keep finding, each as a small broken cache. */
final class CacheCanaries {
  private CacheCanaries() { }

  static List<Canary> all() {
    return List.of(
        cache("ttl-recheck-on-read", "the field fix: a spec change is seen on read after a 30 s TTL",
            TtlRecheck::new, "C4:", "not linearizable", "postcondition"),
        cache("never-invalidates", "a cached client is never rebuilt when its spec changes",
            NeverInvalidates::new, "C4:", "not linearizable", "postcondition"),
        cache("no-single-flight", "every update starts its own build, concurrently", NoSingleFlight::new, "C1:"),
        cache("accepts-older-version", "a late, older update replaces a newer one", AcceptsOlder::new, "C2:", "not linearizable", "postcondition"),
        cache("no-tombstone", "a delete forgets the key, so a late older upsert resurrects it",
            NoTombstone::new, "C2:", "not linearizable", "postcondition"),
        cache("closes-leased-client", "a replaced client is closed at once, under its readers",
            ClosesLeased::new, "C6:"),
        cache("double-release", "a replaced client is closed twice", DoubleRelease::new, "C6:"),
        cache("starves-superseded-builds", "a finished build is thrown away whenever a newer spec "
            + "arrived, so steady updates starve readers", Starving::new, "C3:"),
        cache("ignores-secret-changes", "the field failure: a change inside a referenced Secret is "
            + "never noticed", IgnoresSecretChanges::new, "C9:"),
        cache("listing-ahead-of-client", "the field failure: the listing shows the new spec beside "
            + "the old client", ListingAheadOfClient::new, "C5:"),
        renewing("serves-expired-client", "a client's lifetime is ignored: it is never refreshed and "
            + "served after it expired", ServesExpired::new, "C12:"),
        renewing("stale-listing-after-reconfigure", "a token rotation reconfigures the live client, "
            + "but the listing keeps the old spec", StaleListingAfterReconfigure::new, "C13:"),
        Canary.ofModel("drops-client-on-failure", "a failing build throws the last good client away",
            CacheModel.of("canary drops-client-on-failure", DropsClientOnFailure::new, true), "C7:"),
        cache("never-tells-superseded", "superseded() never completes: a watch holds its replaced "
            + "client forever", NeverTellsSuperseded::new, "C10:"),
        cache("tells-listener-before-leases", "the find of 2026-11-26: a replacement is told to "
            + "the listener before the replaced client's leases are, so the listener (or a thread "
            + "already handed the new client) finds a lease on the old one still current",
            TellsListenerBeforeLeases::new, "C10:"),
        cache("serves-invalidated-under-strict", "a client reported failing is still handed to "
            + "strict readers until its replacement is built", ServesInvalidated::new, "C11:"),
        cache("generation-misses-rebuilds", "a rebuild that keeps the version does not count as a "
            + "new generation, so the listing hides it", GenerationMissesRebuilds::new, "C15:"),
        cache("thread-named-holder", "a lease's holder is the reading thread's name, and a thread "
            + "may be named \" \", so a read from it fails", ThreadNamedHolder::new, "not linearizable",
            "postcondition"),
        cache("times-out-without-a-build", "an upsert fails with a build timeout although no build "
            + "of it was given up", TimesOutWithoutBuild::new, "not linearizable", "postcondition"));
  }

  private static Canary cache(String name, String bug, Function<CacheModel.Wiring, CacheUnderTest> impl,
      String... catches) {
    return Canary.ofModel(name, bug, CacheModel.of("canary " + name, impl, false), catches);
  }

  /** A canary run through the renewing property: clients expire, token rotations reconfigure (C12, C13). */
  private static Canary renewing(String name, String bug, Function<CacheModel.Wiring, CacheUnderTest> impl,
      String... catches) {
    return Canary.ofModel(name, bug, CacheModel.renewing("canary " + name, impl, false), catches);
  }

  /** Serves the newest version it built; upserts complete when served. Base of most canaries. */
  private static class Serializing extends BrokenCache {
    Serializing(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    public final CompletionStage<Object> upsert(String key, long version) {
      Slot s = slot(key);
      return admit(s, version) ? admitted(key, s, version) : stale();
    }

    /** An upsert that is not older than a delete; the canaries break what happens next. */
    CompletionStage<Object> admitted(String key, Slot s, long version) {
      if (version <= s.desired) {
        return awaitServed(key, version);
      }
      s.desired = version;
      return newer(key, version);
    }

    /** A newer version arrived: one build at a time, the newest next. */
    CompletionStage<Object> newer(String key, long version) {
      return slot(key).building ? awaitServed(key, version) : buildNewest(key);
    }

    CompletionStage<Object> buildNewest(String key) {
      Slot s = slot(key);
      long version = s.desired;
      s.building = true;
      return build(key, version).thenCompose(client -> {
        s.building = false;
        if (!s.live) {
          client.close();
          return CompletableFuture.completedFuture("deleted");
        }
        if (client.version() > s.servedVersion) {
          serve(key, client);
        } else {
          client.close();
        }
        return s.desired > version ? buildNewest(key) : CompletableFuture.completedFuture("ok");
      });
    }
  }

  /** The field fix: never invalidated on update; a read rebuilds once the client is older than 30 s. */
  static final class TtlRecheck extends NeverInvalidates {
    TtlRecheck(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    public CompletionStage<ClientLease<SimClient>> acquire(String key) {
      Slot s = slots.get(key);
      if (s != null && s.live && s.served != null
          && scheduler.nanoTime() - s.builtAt > Duration.ofSeconds(30).toNanos()) {
        return buildAndServe(key, s.desired).thenCompose(ok -> super.acquire(key));
      }
      return super.acquire(key);
    }
  }

  /** Builds the first spec it sees and keeps that client forever; updates complete at once. */
  /** Names a lease's holder by the reading thread, blank or not; the lease refuses a blank one. */
  static final class ThreadNamedHolder extends Serializing {
    ThreadNamedHolder(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    String holder() {
      return Thread.currentThread().getName();
    }
  }

  static class NeverInvalidates extends Serializing {
    NeverInvalidates(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    CompletionStage<Object> admitted(String key, Slot s, long version) {
      s.desired = Math.max(s.desired, version);
      return s.served == null && !s.building ? buildAndServe(key, version)
          : CompletableFuture.completedFuture("ok");
    }
  }

  /**
   * An upsert of an even version reports a build timeout once its version is served: the failure
   * the two-key property accepts only when the factory saw a build given up.
   */
  static final class TimesOutWithoutBuild extends Serializing {
    TimesOutWithoutBuild(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    CompletionStage<Object> admitted(String key, Slot s, long version) {
      return super.admitted(key, s, version).thenApply(result -> // the bug: no build failed
          "ok".equals(result) && version % 2 == 0 ? "failed: TimeoutException" : result);
    }
  }

  /** Every newer update builds at once, whether or not a build is running. */
  static final class NoSingleFlight extends Serializing {
    NoSingleFlight(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    CompletionStage<Object> newer(String key, long version) {
      Slot s = slot(key);
      return build(key, version).thenApply(client -> { // the bug: whether or not one is running
        if (s.live && client.version() > s.servedVersion) {
          serve(key, client);
        } else {
          client.close();
        }
        return s.live ? "ok" : "deleted";
      });
    }
  }

  /** Applies every update in arrival order, older or not. */
  static final class AcceptsOlder extends Serializing {
    AcceptsOlder(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    CompletionStage<Object> admitted(String key, Slot s, long version) {
      s.desired = version;
      return build(key, version).thenApply(client -> {
        serve(key, client); // the bug: no version check
        return "ok";
      });
    }
  }

  /** Deletes forget everything about the key. */
  static final class NoTombstone extends Serializing {
    NoTombstone(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    public CompletionStage<Object> delete(String key, long version) {
      CompletionStage<Object> result = super.delete(key, version);
      slots.remove(key); // the bug: no tombstone
      return result;
    }
  }

  /** Closes a replaced client immediately instead of after its last lease. */
  static final class ClosesLeased extends Serializing {
    ClosesLeased(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void replaced(LeasedResource<SimClient> old) {
      Lease<SimClient> peek = old.acquire("owner");
      peek.get().close(); // the bug
    }
  }

  /** Retires a replaced client and closes it as well. */
  static final class DoubleRelease extends Serializing {
    DoubleRelease(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void replaced(LeasedResource<SimClient> old) {
      try (Lease<SimClient> peek = old.acquire("owner")) {
        SimClient client = peek.get();
        old.retire();
        client.close(); // the bug: the retire closes it too, after this lease
      }
    }
  }

  /** Throws a finished build away whenever a newer spec arrived while it ran. */
  static final class Starving extends Serializing {
    Starving(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    CompletionStage<Object> buildNewest(String key) {
      Slot s = slot(key);
      long version = s.desired;
      s.building = true;
      return build(key, version).thenCompose(client -> {
        s.building = false;
        if (!s.live) {
          client.close();
          return CompletableFuture.completedFuture("deleted");
        }
        if (s.desired > version) {
          client.close(); // the bug: discard a client newer than the one served
          return buildNewest(key);
        }
        serve(key, client);
        return CompletableFuture.completedFuture("ok");
      });
    }
  }

  /** Answers a change in the secret its specs read without rebuilding anything. */
  static final class IgnoresSecretChanges extends Serializing {
    IgnoresSecretChanges(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    public CompletionStage<Object> rotate(String secret) {
      return CompletableFuture.completedFuture("ok"); // the bug
    }
  }

  /** Lists the newest spec it was given, whatever client it serves. */
  static final class ListingAheadOfClient extends Serializing {
    ListingAheadOfClient(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    public Optional<View> view(String key) {
      return super.view(key).map(v -> new View(v.desiredVersion(), v.desiredVersion())); // the bug
    }
  }

  /** Knows nothing of lifetimes: a client serves until a newer spec replaces it. */
  static final class ServesExpired extends Serializing {
    ServesExpired(CacheModel.Wiring wiring) {
      super(wiring); // the bug: no refresh, no expiry
    }
  }

  /** Reconfigures the live client for a token rotation, and lists the spec it had before. */
  static final class StaleListingAfterReconfigure extends Serializing {
    StaleListingAfterReconfigure(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    CompletionStage<Object> admitted(String key, Slot s, long version) {
      Optional<SimClient> live = servedClient(key);
      if (version > s.desired && version % 2 == 0 && !s.building && live.isPresent()) {
        try {
          factory.reconfigure(live.get(), new SimSpec(version));
          s.desired = version; // the bug: servedVersion stays the version before
          return CompletableFuture.completedFuture("ok");
        } catch (IOException failed) {
          // the reconfigurer threw: rebuild, as the contract says
        }
      }
      return super.admitted(key, s, version);
    }
  }

  /** When a build fails, stops serving the client it had. */
  static final class DropsClientOnFailure extends Serializing {
    DropsClientOnFailure(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    CompletionStage<Object> buildNewest(String key) {
      Slot s = slot(key);
      return super.buildNewest(key).handle((result, error) -> {
        if (error == null) {
          return result;
        }
        s.building = false;
        if (s.served != null) { // the bug: the last good client goes with the failure
          s.served.retire();
          tell(s.served);
          s.served = null;
          s.servedVersion = -1;
        }
        return "failed: " + error.getClass().getSimpleName();
      });
    }
  }

  /** Never completes a lease's superseded() stage. */
  static final class NeverTellsSuperseded extends Serializing {
    NeverTellsSuperseded(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    void tell(LeasedResource<SimClient> old) {
      // the bug: the holders of a replaced client are never told
    }
  }

  /**
   * Tells the listener of a new client before it tells the leases on the one it replaced: the
   * engine's order before 2026-11-26, when isCurrent() read only the supersession word, which the
   * update set after announcing its transition.
   */
  static final class TellsListenerBeforeLeases extends Serializing {
    private final HostileListener listener;

    TellsListenerBeforeLeases(CacheModel.Wiring wiring) {
      super(wiring);
      this.listener = wiring.listener();
    }

    @Override
    void serve(String key, SimClient client) {
      CompletableFuture<Void> old = superseded.remove(slot(key).served); // told below, too late
      super.serve(key, client);
      listener.onTransition(key,
          new Transition<>(EntryState.REBUILDING, EntryEvent.BUILD_SUCCEEDED, EntryState.CURRENT));
      if (old != null) {
        old.complete(null);
      }
    }
  }

  /** Rebuilds an invalidated client, but hands it to strict readers until the rebuild is served. */
  static final class ServesInvalidated extends Serializing {
    ServesInvalidated(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    boolean waitsForRepair() {
      return false; // the bug: the broken client is as good as any while its replacement builds
    }
  }

  /** Counts only builds of a new version as generations: a rebuild of the same one is not seen. */
  static final class GenerationMissesRebuilds extends Serializing {
    GenerationMissesRebuilds(CacheModel.Wiring wiring) {
      super(wiring);
    }

    @Override
    CompletionStage<Object> rebuild(String key) {
      Slot s = slot(key);
      long generation = s.generation;
      return super.rebuild(key).thenApply(result -> {
        s.generation = generation; // the bug
        return result;
      });
    }
  }
}
