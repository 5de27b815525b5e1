package dev.statewright.harness.staging;

import dev.statewright.lease.Lease;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/** What the staging property drives: the real {@code StagingScope}, or a canary. */
public interface StagingUnderTest extends AutoCloseable {

  /** Stages {@code source} (relative to {@code origin}) for {@code target}'s use. */
  Handle stage(URI source, Path origin, String target) throws Exception;

  /** Closes the run's scope: nothing new may be leased, content goes when its last lease closes. */
  void closeScope();

  /**
   * Stages {@code source} only to read its content digest; empty for an implementation that keeps
   * no digest (then the property cannot judge S4's encoding).
   */
  default Optional<String> digestOf(URI source, Path origin) throws Exception {
    return Optional.empty();
  }

  /**
   * Another process, in its own PID namespace, opens a staging area on the same root (sweeping
   * the scopes it judges abandoned) while this one's scope is live.
   */
  default void neighbourOpens() throws Exception {
    // an implementation without sweeping has nothing to do
  }

  @Override
  void close();

  /** Staged content. */
  interface Handle {
    /** A lease for {@code holder}; throws once the content was released. */
    Lease<Path> acquire(String holder);

    /** How many times the content was deleted so far. */
    int deletions();

    /** Throws if the content differs from what was staged. */
    void verify();
  }
}
