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

  /** {@code key} has the spec of {@code version}; completes once that version (or newer) is served. */
  CompletionStage<Object> upsert(String key, long version);

  /** {@code key} is deleted at {@code version}. */
  CompletionStage<Object> delete(String key, long version);

  /** A lease on a fresh client; fails with NoSuchElementException for an absent key. */
  CompletionStage<ClientLease<SimClient>> acquire(String key);

  /**
   * Reports the client {@code key} serves as failing (C11): {@code "marked"} if one was served,
   * {@code "nothing"} if none is yet, {@code "none"} for an absent key.
   */
  CompletionStage<Object> invalidate(String key);

  /** How many clients a key has served ({@code Snapshot.generation()}, C15), if it counts them. */
  default OptionalLong generation(String key) {
    return OptionalLong.empty();
  }

  /** The secret every spec reads changed; completes when every dependent is rebuilt. */
  CompletionStage<Object> rotate(String secret);

  /** The client a live key serves now, if any (read without waiting). */
  Optional<SimClient> servedClient(String key);

  /** What a live key serves now; empty for an absent or deleted key. */
  Optional<View> view(String key);

  @Override
  void close();

  /** Bulkhead permits in use now, if the cache has a bulkhead it can count. */
  default OptionalInt permitsInUse() {
    return OptionalInt.empty();
  }

  /** Keys in its dependency index (once per dependency), if it keeps one it can count. */
  default OptionalInt dependencyIndexSize() {
    return OptionalInt.empty();
  }

  /** Whether it keeps a tombstone for {@code key}. */
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

    /** A view that says nothing of retries and errors: pending while not current. */
    public View(long desiredVersion, long servedVersion) {
      this(desiredVersion, servedVersion, servedVersion != desiredVersion, false, false);
    }

    /** Whether the served client was built from the newest spec. */
    public boolean current() {
      return servedVersion == desiredVersion;
    }
  }
}
