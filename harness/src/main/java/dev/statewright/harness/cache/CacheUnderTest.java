package dev.statewright.harness.cache;

import dev.statewright.cache.ClientLease;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;

/**
 * What the cache property drives: the real {@code ClientCache}, or a canary. Results are plain
 * values the model understands: {@code "ok"}, {@code "stale"} (ignored as older than what the key
 * holds), {@code "deleted"} (removed before it was served), {@code "failed: …"}.
 */
public interface CacheUnderTest extends AutoCloseable {

  /**
   * {@code key} has the spec of {@code version}; completes once that version (or newer) is served.
   *
   * @param key the key to upsert
   * @param version the spec's version, which is also the spec ({@link SimSpec})
   * @return completes with the outcome: {@code "ok"}, {@code "stale"}, {@code "deleted"} or
   *     {@code "failed: "} and the error
   */
  CompletionStage<Object> upsert(String key, long version);

  /**
   * {@code key} is deleted at {@code version}.
   *
   * @param key the key to delete
   * @param version the version of the delete; older than what the key holds, it is stale
   * @return completes with the outcome: {@code "ok"}, {@code "stale"}, {@code "deleted"} or
   *     {@code "failed: "} and the error
   */
  CompletionStage<Object> delete(String key, long version);

  /**
   * A lease on a fresh client; fails with NoSuchElementException for an absent key.
   *
   * @param key the key whose client to lease
   * @return completes with an open lease, which the caller closes; fails with
   *     {@link java.util.NoSuchElementException} for an absent or deleted key
   */
  CompletionStage<ClientLease<SimClient>> acquire(String key);

  /**
   * Reports the client {@code key} serves as failing (C11): {@code "marked"} if one was served,
   * {@code "nothing"} if none is yet, {@code "none"} for an absent key.
   *
   * @param key the key whose served client failed
   * @return completes with {@code "marked"}, {@code "nothing"} or {@code "none"}, as above
   */
  CompletionStage<Object> invalidate(String key);

  /**
   * How many clients a key has served ({@code Snapshot.generation()}, C15), if it counts them.
   *
   * @param key the key to read
   * @return the key's generation; empty by default, for an implementation that does not count
   */
  default OptionalLong generation(String key) {
    return OptionalLong.empty();
  }

  /**
   * The secret every spec reads changed; completes when every dependent is rebuilt.
   *
   * @param secret the dependency that changed, as specs name it ({@link SimSpec#SECRET})
   * @return completes with {@code "ok"} once every dependent key is rebuilt, or a
   *     {@code "failed: "} outcome
   */
  CompletionStage<Object> rotate(String secret);

  /**
   * The client a live key serves now, if any (read without waiting).
   *
   * @param key the key to read
   * @return the served client; empty for an absent or deleted key, or one not built yet
   */
  Optional<SimClient> servedClient(String key);

  /**
   * What a live key serves now; empty for an absent or deleted key.
   *
   * @param key the key to read
   * @return the key's view; empty for an absent or deleted key
   */
  Optional<View> view(String key);

  @Override
  void close();

  /**
   * Bulkhead permits in use now, if the cache has a bulkhead it can count.
   *
   * @return the permits taken by builds now; empty if the implementation cannot count them
   */
  default OptionalInt permitsInUse() {
    return OptionalInt.empty();
  }

  /**
   * Keys in its dependency index (once per dependency), if it keeps one it can count.
   *
   * @return the number of (dependency, key) entries; empty if the implementation keeps no index
   */
  default OptionalInt dependencyIndexSize() {
    return OptionalInt.empty();
  }

  /**
   * Whether it keeps a tombstone for {@code key}.
   *
   * @param key the key to look for
   * @return true while a deleted key's tombstone is retained; false by default
   */
  default boolean hasTombstone(String key) {
    return false;
  }

  /**
   * One key as its listing shows it.
   *
   * @param desiredVersion the newest version known
   * @param servedVersion the version of the served client's spec; -1 if none is served
   * @param pending whether the key wants a build (not CURRENT: a dependency rebuild keeps the version)
   * @param retryScheduled whether a retry of a failed build is scheduled
   * @param errorRecorded whether the key shows a last error
   */
  record View(long desiredVersion, long servedVersion, boolean pending, boolean retryScheduled,
      boolean errorRecorded) {

    /**
     * A view that says nothing of retries and errors: pending while not current.
     *
     * @param desiredVersion the newest version known
     * @param servedVersion the version of the served client's spec; -1 if none is served
     */
    public View(long desiredVersion, long servedVersion) {
      this(desiredVersion, servedVersion, servedVersion != desiredVersion, false, false);
    }

    /**
     * Whether the served client was built from the newest spec.
     *
     * @return true if the served version equals the desired one
     */
    public boolean current() {
      return servedVersion == desiredVersion;
    }
  }
}
