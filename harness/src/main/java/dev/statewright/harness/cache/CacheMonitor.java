package dev.statewright.harness.cache;

import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.lifecycle.Transition;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Watches a cache under test for C1–C8 as it runs: builds in flight per key (C1) and in all
 * (C8), builds of anything but the newest spec (C3), served versions going back (C2), finished
 * newer builds not served (C3: no starvation), a live key losing its client (C7), clients closed
 * while leased or twice (C6), and at
 * the end that every live key converged (C3, C7) and every client was closed exactly once (C6).
 * In a simulation, {@link #watchProgress} adds liveness and memory ({@link ProgressMonitor}: every
 * key's progress, permits against builds and held through callbacks, build stack depth, failures
 * noticed, leftovers).
 * Thread-safe.
 */
public final class CacheMonitor {
  private final int maxConcurrentBuilds;
  private final boolean stepwise;
  private final List<String> violations = new ArrayList<>(); // guarded by this
  /** Per key, the factory calls in flight, by number (SimFactory's count of calls). */
  private final Map<String, List<Long>> inFlight = new HashMap<>(); // guarded by this
  /**
   * Real threads only: calls that started while others of their key were in flight, judged at
   * the end (C1), when the factory has seen which calls the cache gave up.
   */
  private final List<Overlap> overlaps = new ArrayList<>(); // guarded by this
  /** The calls the cache gave up, as the factory saw it: cancelled, or delivered and closed unserved. */
  private final Set<Long> givenUp = new HashSet<>(); // guarded by this
  private final Map<String, Long> highestServed = new HashMap<>(); // guarded by this
  private final Map<String, Long> finishedNewer = new HashMap<>(); // guarded by this
  private final Map<String, Boolean> wasServing = new HashMap<>(); // guarded by this
  /**
   * Per key, how often the listener heard it removed, and per factory call, that count when the
   * call started: a build finished for an incarnation removed since is not judged by C3 against
   * a re-add, even inside one step (a reentrant factory deletes its key and another re-adds it).
   */
  private final Map<String, Integer> removals = new HashMap<>(); // guarded by this
  private final Map<Long, Integer> removalsAtStart = new HashMap<>(); // guarded by this
  private final List<SimClient> clients = new ArrayList<>(); // guarded by this
  private final List<SimClient> reconfigured = new ArrayList<>(); // guarded by this; this step's
  private Scheduler clock; // renewing runs only: clients expire
  /** Per key, the highest generation seen (C15) and the highest one invalidated (C11). */
  private final Map<String, Long> highestGeneration = new HashMap<>(); // guarded by this
  private final Map<String, Long> invalidatedGeneration = new HashMap<>(); // guarded by this
  /** Leases the property took, watched for C10 (simulation only). */
  private final List<Held> held = new ArrayList<>(); // guarded by this
  private int building; // guarded by this
  private int leasesHeld; // guarded by this
  private CacheUnderTest cache;
  private List<String> keys = List.of();
  private ProgressMonitor progress; // simulation only
  private boolean closedByProgram;
  private boolean startsAreNewest = true;

  /**
   * A monitor for a cache allowed {@code maxConcurrentBuilds}; {@code stepwise} checks that hold
   * between every two steps of a simulation (they cannot be checked between real threads).
   *
   * @param maxConcurrentBuilds the most builds allowed at once (C5)
   * @param stepwise whether to check between steps: true for a simulation only
   */
  public CacheMonitor(int maxConcurrentBuilds, boolean stepwise) {
    this.maxConcurrentBuilds = maxConcurrentBuilds;
    this.stepwise = stepwise;
  }

  /**
   * Also checks liveness and memory ({@link ProgressMonitor}) over {@code allKeys}, in the
   * virtual time of {@code scheduler}; simulation only.
   *
   * @param scheduler the simulated scheduler whose virtual time bounds progress
   * @param allKeys every key the run may touch
   */
  public synchronized void watchProgress(Scheduler scheduler, List<String> allKeys) {
    progress = new ProgressMonitor(scheduler, maxConcurrentBuilds, this::violation);
    progress.watch(cache, allKeys);
  }

  /**
   * Whether every factory call builds the newest spec (C3). Not for a blocking factory: its call
   * waits on the executor after the engine committed to the build, and a newer spec arriving in
   * between is that build's "one more build" (C1 and convergence still judge it).
   */
  synchronized void startsAreNewest(boolean check) {
    startsAreNewest = check;
  }

  /**
   * Clients expire in this run, in the time of {@code clock}: a key may lose its client when its
   * lifetime ends (C12 instead of C7).
   *
   * @param clock the scheduler whose time the lifetimes run on
   */
  public synchronized void clock(Scheduler clock) {
    this.clock = clock;
  }

  /** The reconfigurer was called on {@code client} (it may have thrown): checked after the step. */
  synchronized void reconfigured(SimClient client) {
    reconfigured.add(client);
  }

  /**
   * C12 at the moment {@code client} is handed out: its lifetime is not over. Simulation only,
   * where the factory's lifetime and the cache's start at the same instant.
   */
  synchronized void handedOut(SimClient client) {
    if (expired(client)) {
      violations.add("C12: " + client + " was handed out " + (clock.nanoTime() - client.expiresAt) / 1_000_000
          + " ms after its lifetime of " + client.lifetime + " ended");
    }
  }

  /** Whether {@code client}'s lifetime is over (renewing runs only: others have no clock). */
  private boolean expired(SimClient client) {
    return clock != null && client.expiresAt != Long.MAX_VALUE
        && clock.nanoTime() - client.expiresAt >= 0;
  }

  /** The program closed the cache: finish() checks what a closed cache may still hold. */
  synchronized void closedByProgram() {
    closedByProgram = true;
  }

  /**
   * Watches {@code keys} of {@code cache}: their views feed the step checks.
   *
   * @param cache the cache under test
   * @param keys the keys whose views are checked; copied
   */
  public synchronized void watch(CacheUnderTest cache, List<String> keys) {
    this.cache = cache;
    this.keys = List.copyOf(keys);
  }

  private synchronized void awaitLeasesGiven(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (leasesHeld > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        violations.add("harness: " + leasesHeld + " leases still held " + timeout + " after the run");
        return;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  private synchronized void awaitConverged(List<String> keys, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    // a dependency rebuild keeps the version, so "current" alone does not mean no build is due
    while (building > 0
        || keys.stream().anyMatch(k -> cache.view(k).filter(v -> !v.current()).isPresent())) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return; // finish() reports what did not converge
      }
      TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
    }
  }

  synchronized void violation(String what) {
    violations.add(what);
  }

  /**
   * A call overlapping others of its key. On real threads the cache marks a build abandoned (its
   * CAS) and may start the next one on another thread before the abandoned call's stage is
   * cancelled (the cancel comes after the CAS, or when a call abandoned while being made
   * returns): that is allowed (C1: a new build may start while an abandoned one still runs), so
   * the overlap is a violation only if one of the calls it overlapped was never given up.
   *
   * @param key the key of the calls
   * @param call the call that started
   * @param running the calls of the key in flight as it started
   */
  private record Overlap(String key, long call, List<Long> running) { }

  /** Calls with the number -1 are not told apart: the tests' short form. */
  synchronized void buildStarted(String key, long version) {
    buildStarted(key, version, -1);
  }

  synchronized void buildStarted(String key, long version, long call) {
    if (call >= 0) {
      removalsAtStart.put(call, removals.getOrDefault(key, 0));
    }
    List<Long> running = inFlight.computeIfAbsent(key, k -> new ArrayList<>());
    running.add(call);
    int mine = running.size();
    building++;
    if (mine > 1 && stepwise) { // one thread: the abandoned call is cancelled before the next starts
      violations.add("C1: " + mine + " builds of " + key + " in flight at once");
    } else if (mine > 1) {
      overlaps.add(new Overlap(key, call, List.copyOf(running.subList(0, mine - 1))));
    }
    if (progress != null) {
      progress.buildStarted(key);
    }
    if (building > maxConcurrentBuilds) {
      violations.add("C8: " + building + " builds at once, more than " + maxConcurrentBuilds);
    }
    if (stepwise && startsAreNewest && cache != null) {
      Optional<CacheUnderTest.View> view = cache.view(key);
      if (view.isPresent() && view.get().desiredVersion() != version) {
        violations.add("C3: started a build of " + key + " v" + version + " while v"
            + view.get().desiredVersion() + " is the newest");
      }
    }
  }

  synchronized void buildFinished(String key, long version, SimClient client) {
    buildFinished(key, version, -1, client);
  }

  synchronized void buildFinished(String key, long version, long call, SimClient client) {
    inFlight.getOrDefault(key, new ArrayList<>()).remove(Long.valueOf(call));
    building--;
    if (progress != null) {
      progress.buildFinished(key);
    }
    notifyAll(); // finish() may be waiting for convergence
    Integer removalsThen = removalsAtStart.remove(call);
    if (client != null) {
      clients.add(client);
      if (removalsThen == null || removalsThen.equals(removals.getOrDefault(key, 0))) {
        finishedNewer.merge(key, version, Math::max);
      }
    }
  }

  /** The factory saw the cache give {@code call} up (C1: an abandoned call may overlap the next). */
  synchronized void buildGivenUp(long call) {
    givenUp.add(call);
    notifyAll(); // finish() may be waiting to judge an overlap
  }

  /**
   * Real threads: every call that another of its key overlapped was given up (C1). The factory
   * sees a late client closed unserved just after the cache's action closed it, so an overlap not
   * yet excused waits for that, a while.
   */
  private void judgeOverlaps(Duration timeout) throws InterruptedException {
    assert Thread.holdsLock(this);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (overlaps.stream().anyMatch(o -> !givenUp.containsAll(o.running()))) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    for (Overlap o : overlaps) {
      o.running().stream().filter(c -> !givenUp.contains(c)).findFirst().ifPresent(live ->
          violations.add("C1: " + (o.running().size() + 1) + " builds of " + o.key() + " in flight at once:"
              + " call #" + o.call() + " started while #" + live + " ran, which the cache never gave up"));
    }
  }

  synchronized void buildFailed(String key, long version, Throwable error) {
    if (progress != null) {
      progress.buildFailed(key, version, error);
    }
  }

  private synchronized void awaitClosed(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (clients.stream().anyMatch(c -> c.closes.get() == 0)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return; // finish() reports the clients never closed
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /** The harness asked to upsert {@code key} at {@code version}; {@code answer} is the reply. */
  synchronized void upserted(String key, long version, CompletionStage<?> answer) {
    if (progress != null) {
      progress.upserted(key, version, answer);
    }
  }

  /** The factory completes the stage of a build of {@code key} now; null once it has. */
  synchronized void completing(String key) {
    if (progress != null) {
      progress.completing(key);
    }
  }

  /** The listener method {@code what} about {@code key} runs now. */
  synchronized void told(String what, String key) {
    if (progress != null) {
      progress.callback(what, key);
    }
  }

  /** The listener is told of {@code transition} of {@code key}. */
  synchronized void toldTransition(String key, Transition<EntryState, EntryEvent> transition) {
    if (progress != null) {
      progress.transition(key, transition);
    }
    notCurrentOnceReplaced(key, transition);
    if (transition.to() == EntryState.REMOVED) { // this incarnation is over: a re-add starts afresh
      removals.merge(key, 1, Integer::sum);
      finishedNewer.remove(key);
      wasServing.put(key, false);
    }
  }

  /**
   * While the listener is told of a change, no lease on a client its key no longer serves says it
   * is current, and none that says so has an untold stage (C10): "from then on isCurrent() is
   * false" holds from the replacement on, not only from the tell, or a listener told of a new
   * client (or a thread handed it) finds the old one current, or not current but not told.
   */
  private void notCurrentOnceReplaced(String key, Transition<EntryState, EntryEvent> transition) {
    assert Thread.holdsLock(this);
    if (cache == null) {
      return;
    }
    long generation = cache.generation(key).orElse(-1);
    boolean serving = cache.view(key).filter(v -> v.servedVersion() >= 0).isPresent();
    for (Held h : held) {
      if (!h.key.equals(key) || h.flagged || serving && generation == h.generation) {
        continue;
      }
      boolean current = h.lease.isCurrent();
      if (current || h.told == 0) {
        h.flagged = true;
        violations.add("C10: " + h + (current ? " says it is current" : " is not current but "
            + "its superseded() stage is untold") + " while the listener is told " + transition
            + " and its key serves " + (serving ? "generation " + generation : "nothing"));
      }
    }
  }

  /** The listener is told that the build of {@code key} is about to call its factory. */
  synchronized void toldBuildStarted(String key) {
    if (progress != null) {
      progress.buildAnnounced(key);
    }
  }

  /** The listener is told that the build of {@code key} finished with {@code error}. */
  synchronized void toldBuildFinished(String key, Throwable error) {
    if (progress != null) {
      progress.buildTold(key, error);
    }
  }

  synchronized void closed(SimClient client) {
    notifyAll(); // finish() may be waiting for the last close
    if (progress != null) {
      progress.closerRuns(client);
    }
    if (client.leases.get() > 0) {
      violations.add("C6: " + client + " closed while " + client.leases.get() + " lease(s) held it");
    }
    if (client.closes.get() > 1) {
      violations.add("C6: " + client + " closed " + client.closes.get() + " times");
    }
  }

  /** Between two simulation steps: served versions never go back, a newer finished build is served. */
  public synchronized void afterStep() {
    if (cache == null) {
      return;
    }
    for (String key : List.copyOf(finishedNewer.keySet())) {
      long finished = finishedNewer.remove(key);
      cache.view(key).filter(v -> v.servedVersion() < finished && v.desiredVersion() >= finished)
          .ifPresent(v -> violations.add("C3: a finished build of " + key + " v" + finished
              + " was not served (serving v" + v.servedVersion() + "): newer clients are discarded"));
    }
    keys.forEach(this::served);
    keys.forEach(this::keptServing);
    reconfigured.forEach(this::listsWhatItReflects);
    reconfigured.clear();
    keys.forEach(this::generationKept);
    checkTold();
    if (progress != null) {
      progress.afterStep();
    }
  }

  /**
   * A live key that served a client keeps serving one until it is deleted, failures or not (C7),
   * or until that client's lifetime ends, which is exactly now (C12).
   */
  private void keptServing(String key) {
    assert Thread.holdsLock(this);
    Optional<CacheUnderTest.View> view = cache.view(key);
    boolean serving = view.filter(v -> v.servedVersion() >= 0).isPresent();
    if (view.isPresent() && !serving && wasServing.getOrDefault(key, false) && !expiredNow(key)) {
      violations.add("C7: " + key + " is live but lost its last good client");
    }
    wasServing.put(key, serving);
  }

  /** Whether a client of {@code key} reaches the end of its lifetime exactly now (C12). */
  private boolean expiredNow(String key) {
    assert Thread.holdsLock(this);
    return clock != null
        && clients.stream().anyMatch(c -> c.key.equals(key) && c.expiresAt == clock.nanoTime());
  }

  /**
   * After the reconfigurer ran on {@code client} (and returned or threw), a listing that still
   * serves it shows the version it now reflects (C13): the new one, or the old one if it threw.
   */
  private void listsWhatItReflects(SimClient client) {
    assert Thread.holdsLock(this);
    if (client.closes.get() > 0) {
      return; // released meanwhile: no longer the served client
    }
    cache.view(client.key).filter(v -> v.servedVersion() >= 0 && v.servedVersion() != client.version)
        .ifPresent(v -> violations.add("C13: the reconfigurer left " + client + " reflecting v"
            + client.version + ", but the listing shows " + client.key + " serving v" + v.servedVersion()));
  }

  private void served(String key) {
    assert Thread.holdsLock(this);
    cache.view(key).filter(v -> v.servedVersion() >= 0).ifPresent(v -> {
      Long before = highestServed.put(key, Math.max(v.servedVersion(), highestServed.getOrDefault(key, -1L)));
      if (before != null && v.servedVersion() < before) {
        violations.add("C2: " + key + " served v" + v.servedVersion() + " after serving v" + before);
      }
    });
  }

  /** A lease the property took on the client of {@code generation}, watched for C10. */
  static final class Held {
    final String key;
    final long generation;
    final ClientLease<SimClient> lease;
    /** The leased client, read while the lease is open (a closed lease's get() throws). */
    final SimClient client;
    int told; // guarded by the monitor
    boolean flagged; // guarded by the monitor

    Held(String key, long generation, ClientLease<SimClient> lease) {
      this.key = key;
      this.generation = generation;
      this.lease = lease;
      this.client = lease.get();
    }

    @Override
    public String toString() {
      return "the lease on " + key + " generation " + generation;
    }
  }

  /** The highest generation of {@code key} invalidated so far; -1 if none (C11). */
  synchronized long invalidatedGeneration(String key) {
    return invalidatedGeneration.getOrDefault(key, -1L);
  }

  /** The client of {@code key} at {@code generation} was reported failing and marked (C11). */
  synchronized void invalidated(String key, long generation) {
    invalidatedGeneration.merge(key, generation, Math::max);
    // unless a build at once (a synchronous factory) served the replacement already
    if (stepwise && cache != null && cache.generation(key).orElse(-1) == generation
        && cache.view(key).filter(v -> !v.errorRecorded()).isPresent()) {
      violations.add("C11: the failure reported against " + key + " is not its last error");
    }
  }

  /**
   * The property was handed {@code lease} on {@code key} by a strict acquire that started when
   * {@code brokenAtStart} was the highest generation invalidated: in a simulation, where the
   * listing and the lease are read at one instant, the lease is watched for C10 and judged for
   * C11. Null when not watched.
   */
  synchronized Held leaseHeld(String key, ClientLease<SimClient> lease, long brokenAtStart) {
    OptionalLong generation = stepwise && cache != null ? cache.generation(key) : OptionalLong.empty();
    if (generation.isEmpty()) {
      return null;
    }
    long g = generation.getAsLong();
    if (g <= brokenAtStart) {
      violations.add("C11: a strict acquire of " + key + " that started after generation "
          + brokenAtStart + " was invalidated was handed generation " + g);
    }
    Held h = new Held(key, g, lease);
    held.add(h);
    lease.superseded().thenRun(() -> told(h));
    return h;
  }

  private synchronized void told(Held h) {
    h.told++;
    if (h.told > 1) {
      violations.add("C10: " + h + " was told " + h.told + " times");
    }
    if (h.lease.isCurrent()) {
      violations.add("C10: " + h + " is still current after superseded() completed");
    }
    // an expired client is served no more (C12), dropped or not yet: told, rightly
    if (!expired(h.client) && cache.view(h.key).filter(v -> v.servedVersion() >= 0).isPresent()
        && cache.generation(h.key).orElse(-1) == h.generation) {
      violations.add("C10: " + h + " was told while its client is still served");
    }
  }

  /**
   * The holder of {@code h} reported its client failing, which the cache answered {@code marked}:
   * a report against a replaced client changes nothing (C11).
   */
  synchronized void reported(Held h, boolean wasCurrent, boolean marked, long generationBefore) {
    if (!wasCurrent && marked) {
      violations.add("C11: a report against " + h + ", already replaced, marked a client");
    }
    long after = cache.generation(h.key).orElse(-1);
    if (!wasCurrent && after != generationBefore) {
      violations.add("C11: a report against " + h + ", already replaced, moved " + h.key
          + " from generation " + generationBefore + " to " + after);
    }
    if (marked) {
      invalidated(h.key, h.generation);
    }
  }

  /** Every watched lease whose client was replaced or removed has been told (C10). */
  private void checkTold() {
    assert Thread.holdsLock(this);
    for (Held h : held) {
      if (h.told == 0 && !h.flagged && (cache.view(h.key).isEmpty()
          || cache.generation(h.key).orElse(h.generation) > h.generation)) {
        h.flagged = true;
        violations.add("C10: " + h + " was not told that its client was replaced or removed");
      }
    }
  }

  /** Generations never go back, and a key serving a client has served at least one (C15). */
  private void generationKept(String key) {
    assert Thread.holdsLock(this);
    OptionalLong g = cache.generation(key);
    if (g.isEmpty()) {
      return;
    }
    Long before = highestGeneration.put(key, Math.max(g.getAsLong(), highestGeneration.getOrDefault(key, -1L)));
    if (before != null && g.getAsLong() < before) {
      violations.add("C15: the generation of " + key + " went back from " + before + " to " + g.getAsLong());
    }
    cache.view(key).filter(v -> v.servedVersion() >= 0 && g.getAsLong() < 1).ifPresent(v ->
        violations.add("C15: " + key + " serves v" + v.servedVersion() + " at generation " + g.getAsLong()));
  }

  synchronized void leaseTaken() {
    leasesHeld++;
  }

  synchronized void leaseGiven() {
    if (--leasesHeld == 0) {
      notifyAll();
    }
  }

  /**
   * At quiescence: every live key current; then close the cache and check every client closed once.
   *
   * @param keys the keys that must have converged
   * @return every violation seen during the run and now, each starting with its property
   *     ({@code "C3:"}, …); empty if the run passed
   * @throws InterruptedException if interrupted while waiting, on real threads, for leases to
   *     be given back, keys to converge or the cache to close (each up to 30 seconds)
   */
  public List<String> finish(List<String> keys) throws InterruptedException {
    if (!stepwise) { // on real threads, commands may still hold leases and retries be due
      awaitLeasesGiven(Duration.ofSeconds(30));
      awaitConverged(keys, Duration.ofSeconds(30));
    }
    if (progress != null) {
      synchronized (this) {
        progress.finish(closedByProgram);
      }
    }
    for (String key : keys) {
      cache.view(key).filter(v -> !v.current()).ifPresent(v -> violation("C3: " + key
          + " did not converge: desired v" + v.desiredVersion() + ", serving v" + v.servedVersion()));
      long broken = invalidatedGeneration(key);
      if (stepwise && cache.view(key).isPresent() && cache.generation(key).orElse(-1) <= broken) {
        violation("C11: " + key + " still serves the client invalidated at generation " + broken);
      }
    }
    cache.close();
    if (!stepwise) { // a build that finished as the cache closed is discarded on its own thread
      awaitClosed(Duration.ofSeconds(30));
    }
    synchronized (this) {
      judgeOverlaps(Duration.ofSeconds(5));
      for (Held h : held) {
        if (h.told != 1 && !h.flagged) {
          violations.add("C10: " + h + " was told " + h.told + " times, its cache closed");
        }
      }
      for (SimClient client : clients) {
        if (client.closes.get() != 1) {
          violations.add("C6: " + client + " was closed " + client.closes.get() + " times in all");
        }
      }
      return List.copyOf(violations);
    }
  }
}
