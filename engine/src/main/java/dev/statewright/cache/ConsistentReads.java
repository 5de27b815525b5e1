package dev.statewright.cache;

import dev.statewright.event.EventSource;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.IntToLongFunction;

/**
 * A cache's reads as of a store version ({@code acquireAsOf}) and consistent reads
 * ({@code acquireConsistent}): the progress each source reports, and the readers waiting for it.
 *
 * <p>A read of key {@code k} as of version {@code R} waits until the source that delivered
 * {@code k} has reported progress {@code >= R}; at that moment the cache holds every event of that
 * source up to {@code R}, so the spec {@code k} wants then is its spec as of {@code R} or later,
 * and the read waits (strictly) for a client built from it. A key with no live entry waits for
 * every source, then answers {@link NoSuchElementException}. Since a source's progress never goes
 * back and the cache applies its events in order, a replica that answered as of {@code R} never
 * serves anything older than {@code R} of that source afterwards, for any key.
 *
 * <p>Memory consistency effects: a source's actions before {@code progress(v)} <i>happen-before</i>
 * a read as of {@code v} or less takes its decision; lease effects are those of
 * {@code ClientCache.acquireAsync}.
 *
 * @param <K> the key type
 * @param <S> the spec type
 * @param <C> the client type
 */
final class ConsistentReads<K, S, C> {
  /*
   * Overview: one SourceProgress per source (origin 1..n), and for each read a Read object that
   * resolves the key's owner, waits for the owner's progress, then asks the cache for a lease on
   * the spec the key wants at that moment.
   *
   * Concurrency: no lock of our own but a Read's list of waits. SourceProgress guards its waits; a
   * Read's result is a CompletableFuture completed at most once (by its answer, its failure or its
   * timer, which shares one deadline with asking a source for its current version), its waits are
   * withdrawn when it ends, and a lease that arrives after the read ended is closed. Each step re-reads the owner, so a key
   * moving between sources while a read waits is read again rather than answered wrongly.
   *
   * Ordering of this file: fields and hooks, progress, the two reads, the Read, messages.
   */

  /** What the cache tells the reads about its entries. */
  interface Entries<K, C> {
    /** The origin of the source that delivered {@code key}'s live entry (0: the API); NO_OWNER. */
    int ownerOf(K key);

    /** A lease on a client built from the spec {@code key} wants now; fails if it has none. */
    CompletableFuture<ClientLease<C>> leaseOnDesired(K key, String holder);
  }

  /** A key with no live entry. */
  static final int NO_OWNER = -1;
  /** The origin of what is given through the cache's own API. */
  private static final int API = 0;

  private final String cacheName;
  private final List<EventSource<K, S>> sources;
  private final List<SourceProgress> progress;
  private final Scheduler scheduler;
  private final Duration timeout;
  private final Entries<K, C> entries;

  ConsistentReads(String cacheName, List<EventSource<K, S>> sources, Scheduler scheduler,
      Duration timeout, Entries<K, C> entries) {
    this.cacheName = cacheName;
    this.sources = List.copyOf(sources);
    List<SourceProgress> each = new ArrayList<>(sources.size());
    sources.forEach(source -> each.add(new SourceProgress()));
    this.progress = List.copyOf(each);
    this.scheduler = scheduler;
    this.timeout = timeout;
    this.entries = entries;
  }

  // ---------------------------------------------------------------- progress

  /** Source {@code origin} (1..n) delivered everything up to {@code version}. */
  void progressed(int origin, long version) {
    progressOf(origin).advance(version);
  }

  /** Fails every waiting read: the cache is closed. */
  void close(RuntimeException closed) {
    progress.forEach(p -> p.failAll(closed));
  }

  private SourceProgress progressOf(int origin) {
    return progress.get(origin - 1);
  }

  private boolean reportsProgress(int origin) {
    return sources.get(origin - 1).reportsProgress() || progressOf(origin).hasReported();
  }

  // ---------------------------------------------------------------- the two reads

  /** A lease on {@code key} as of store version {@code storeVersion} (or later). */
  CompletableFuture<ClientLease<C>> acquireAsOf(K key, long storeVersion, String holder) {
    Read read = new Read(key, "version " + storeVersion, origin -> storeVersion, holder,
        scheduler.nanoTime() + timeout.toNanos());
    read.start();
    return read.result;
  }

  /**
   * A lease on {@code key} as of the owning source's current version (or later); asking for the
   * version and waiting for it share one acquire timeout.
   */
  CompletableFuture<ClientLease<C>> acquireConsistent(K key, String holder) {
    long deadline = scheduler.nanoTime() + timeout.toNanos();
    List<Integer> origins;
    try {
      origins = reportingOwners(key);
    } catch (RuntimeException unsupported) {
      return CompletableFuture.failedFuture(unsupported);
    }
    Map<Integer, CompletableFuture<Long>> versions = new HashMap<>();
    for (int origin : origins) {
      versions.put(origin, currentVersionOf(origin, key));
    }
    return CompletableFuture.allOf(versions.values().toArray(CompletableFuture<?>[]::new))
        .handle((ignored, error) -> {
          if (error != null) {
            return CompletableFuture.<ClientLease<C>>failedFuture(unwrap(error));
          }
          Read read = new Read(key, "the current version " + joined(versions),
              origin -> versions.containsKey(origin) ? versions.get(origin).join() : 0, holder,
              deadline);
          read.start();
          return read.result;
        })
        .thenCompose(Function.identity());
  }

  /** Source {@code origin}'s current version, failed if it gives none within the timeout. */
  private CompletableFuture<Long> currentVersionOf(int origin, K key) {
    CompletableFuture<Long> bounded = new CompletableFuture<>();
    Scheduler.Cancellable timer = scheduler.schedule(() -> bounded.completeExceptionally(
        new ClientUnavailableException("no consistent read of '" + key + "' in " + cacheName
            + ": source #" + origin + " (" + sources.get(origin - 1) + ") did not tell its"
            + " current version within " + timeout, null)), timeout);
    bounded.whenComplete((version, error) -> timer.cancel());
    try {
      sources.get(origin - 1).currentVersion().whenComplete((version, error) -> {
        if (error != null) {
          bounded.completeExceptionally(unwrap(error));
        } else {
          bounded.complete(version);
        }
      });
    } catch (Throwable t) { // a source's code: any Throwable fails this read only
      bounded.completeExceptionally(t);
    }
    return bounded;
  }

  /**
   * The sources a read of {@code key} waits for: its owner, or every source for a key with no
   * live entry.
   *
   * @throws UnsupportedOperationException if one of them reports no progress
   */
  private List<Integer> reportingOwners(K key) {
    int owner = entries.ownerOf(key);
    if (owner == API) {
      throw new UnsupportedOperationException("'" + key + "' in " + cacheName + " was given"
          + " through the cache's API, not by a source, so no source's progress covers it;"
          + " reads as of a store version need a source that reports progress");
    }
    if (sources.isEmpty()) {
      throw new UnsupportedOperationException(cacheName + " has no source, so it cannot read '"
          + key + "' as of a store version");
    }
    List<Integer> origins = new ArrayList<>();
    for (int origin = 1; origin <= sources.size(); origin++) {
      if (owner == NO_OWNER || owner == origin) {
        origins.add(requireReporting(key, owner, origin));
      }
    }
    return origins;
  }

  private int requireReporting(K key, int owner, int origin) {
    if (!reportsProgress(origin)) {
      throw new UnsupportedOperationException(owner == NO_OWNER
          ? cacheName + " has no entry for '" + key + "', and its source #" + origin + " ("
              + sources.get(origin - 1) + ") reports no progress, so whether '" + key
              + "' existed as of a store version cannot be known"
          : "'" + key + "' in " + cacheName + " comes from source #" + origin + " ("
              + sources.get(origin - 1) + "), which reports no progress; reads as of a store"
              + " version need a source that does");
    }
    return origin;
  }

  // ---------------------------------------------------------------- one read

  /** One read: resolve the owner, wait for its progress, lease the spec wanted then. */
  private final class Read {
    final CompletableFuture<ClientLease<C>> result = new CompletableFuture<>();
    private final K key;
    private final String asOf;
    private final IntToLongFunction target;
    private final String holder;
    private final long deadlineNanos;
    private final List<CompletableFuture<Void>> waiting = new ArrayList<>(1); // guarded by itself

    Read(K key, String asOf, IntToLongFunction target, String holder, long deadlineNanos) {
      this.key = key;
      this.asOf = asOf;
      this.target = target;
      this.holder = holder;
      this.deadlineNanos = deadlineNanos;
    }

    void start() {
      Scheduler.Cancellable timer = scheduler.schedule(this::timedOut,
          Duration.ofNanos(Math.max(0, deadlineNanos - scheduler.nanoTime())));
      result.whenComplete((lease, error) -> {
        timer.cancel();
        withdraw();
      });
      step();
    }

    /** Waits for the sources the key needs now, then answers; re-run if the owner changed. */
    private void step() {
      if (result.isDone()) {
        return;
      }
      List<Integer> origins;
      try {
        origins = reportingOwners(key);
      } catch (RuntimeException unsupported) {
        result.completeExceptionally(unsupported);
        return;
      }
      List<CompletableFuture<Void>> waits = new ArrayList<>(origins.size());
      for (int origin : origins) {
        waits.add(progressOf(origin).awaitAtLeast(target.applyAsLong(origin)));
      }
      if (waits.stream().allMatch(CompletableFuture::isDone)) {
        answer(origins);
        return;
      }
      synchronized (waiting) {
        waiting.addAll(waits);
      }
      if (result.isDone()) {
        withdraw(); // timed out while we registered: withdraw these waits too
      }
      CompletableFuture.allOf(waits.toArray(CompletableFuture<?>[]::new))
          .whenComplete((ignored, error) -> {
            if (error != null) {
              result.completeExceptionally(unwrap(error));
            } else {
              step();
            }
          });
    }

    /** Every source in {@code waitedFor} has reached the target: answer from the cache as it is. */
    private void answer(List<Integer> waitedFor) {
      int owner = entries.ownerOf(key);
      if (owner != NO_OWNER && !waitedFor.contains(owner)) {
        step(); // the key moved to another source meanwhile: wait for that one too
        return;
      }
      entries.leaseOnDesired(key, holder).whenComplete((lease, error) -> {
        if (error != null) {
          result.completeExceptionally(unwrap(error));
        } else if (!result.complete(lease)) {
          lease.close(); // timed out meanwhile
        }
      });
    }

    private void timedOut() {
      result.completeExceptionally(new ClientUnavailableException("no client for '" + key
          + "' as of " + asOf + " in " + cacheName + " within " + timeout + " (" + progressSeen()
          + ")", null));
    }

    private String progressSeen() {
      List<String> seen = new ArrayList<>();
      for (int origin = 1; origin <= sources.size(); origin++) {
        long reached = progressOf(origin).reached();
        seen.add("source #" + origin + " " + sources.get(origin - 1)
            + (reached == SourceProgress.NONE ? " has reported no progress"
                : " has reached version " + reached));
      }
      return String.join(", ", seen);
    }

    private void withdraw() {
      List<CompletableFuture<Void>> all;
      synchronized (waiting) {
        all = new ArrayList<>(waiting);
        waiting.clear();
      }
      all.forEach(wait -> wait.cancel(false));
    }
  }

  // ---------------------------------------------------------------- messages

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null
        ? error.getCause() : error;
  }

  private String joined(Map<Integer, CompletableFuture<Long>> versions) {
    List<String> each = new ArrayList<>();
    versions.forEach((origin, version) -> each.add(version.join() + " of source #" + origin));
    return String.join(", ", each);
  }
}
