package dev.statewright.harness.staging;

import dev.statewright.lease.Lease;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/** What the staging property drives: the real {@code StagingScope}, or a canary. */
public interface StagingUnderTest extends AutoCloseable {

  /**
   * Stages {@code source} (relative to {@code origin}) for {@code target}'s use.
   *
   * @param source the directory to stage, as a {@code file:} URI
   * @param origin the bundle file a relative source is resolved against
   * @param target the target that will use the content, for messages
   * @return the staged content; staging the same source again in the scope may return the same
   *     content
   * @throws Exception if staging failed; the property judges whether the failure was right
   */
  Handle stage(URI source, Path origin, String target) throws Exception;

  /** Closes the run's scope: nothing new may be leased, content goes when its last lease closes. */
  void closeScope();

  /**
   * Stages {@code source} only to read its content digest; empty for an implementation that keeps
   * no digest (then the property cannot judge S4's encoding).
   *
   * @param source the directory to stage, as a {@code file:} URI
   * @param origin the bundle file a relative source is resolved against
   * @return the content digest, as {@code sha256:} and hex; empty by default
   * @throws Exception if staging failed
   */
  default Optional<String> digestOf(URI source, Path origin) throws Exception {
    return Optional.empty();
  }

  /**
   * Another process, in its own PID namespace, opens a staging area on the same root (sweeping
   * the scopes it judges abandoned) while this one's scope is live.
   *
   * @throws Exception if the neighbour could not open the area; the property reports it
   */
  default void neighbourOpens() throws Exception {
    // an implementation without sweeping has nothing to do
  }

  @Override
  void close();

  /** Staged content. */
  interface Handle {
    /**
     * A lease for {@code holder}; throws once the content was released.
     *
     * @param holder the target taking the lease
     * @return the open lease on the staged path
     */
    Lease<Path> acquire(String holder);

    /**
     * How many times the content was deleted so far.
     *
     * @return the number of deletions: 0 while staged, 1 once released; the property reports
     *     more than one
     */
    int deletions();

    /** Throws if the content differs from what was staged. */
    void verify();
  }
}
