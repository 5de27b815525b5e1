package dev.statewright.cache;

/**
 * Someone waiting for an entry to serve at least a version and a revision: an {@code upsert}'s
 * read-your-writes future, a {@code dependencyChanged} future, or an acquire waiting for a fresh
 * enough client. Waiters live in the entry's immutable node, so adding one and the transition that
 * satisfies it are ordered by the same CAS: no wake-up can be lost. A waiter knows what it is
 * served, never the node that serves it (nodes hold waiters, not the other way round).
 */
abstract class Waiter<K, S, C> {
  final long minVersion;
  final long minRevision;

  Waiter(long minVersion, long minRevision) {
    this.minVersion = minVersion;
    this.minRevision = minRevision;
  }

  /** Whether a served client reflecting {@code version} of {@code revision} answers it. */
  final boolean satisfiedBy(long version, long revision, boolean broken) {
    return version >= minVersion && revision >= minRevision && (!broken || takesBroken());
  }

  /** Whether an invalidated client, still served, answers this waiter (C11: not for strict reads). */
  boolean takesBroken() {
    return true;
  }

  /** Whether a failed build of {@code run} answers this waiter. */
  abstract boolean failsWith(BuildRun<S> run);

  /** Whether the waiter was answered (or timed out) and can be dropped. */
  abstract boolean isDone();

  /** Completes the waiter from the node that satisfied it (its client, its view); after the CAS. */
  abstract void serve(ServedClient<C> client, Snapshot<K, S, C> view);

  /** Completes the waiter exceptionally; runs after the CAS. */
  abstract void fail(Throwable error);

  /** The build this waiter waited for failed with {@code error}; runs after the CAS. */
  void buildFailed(Throwable error) {
    fail(error);
  }
}
