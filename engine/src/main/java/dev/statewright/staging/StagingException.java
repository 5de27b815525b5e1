package dev.statewright.staging;

import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Staging failed or staged content is unusable. The message names the source, the origin it was
 * resolved against and the staging path, where they are known; subclasses say what went wrong.
 */
public class StagingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient URI source;
  private final transient Path origin;
  private final transient Path stagingPath;

  StagingException(String problem, URI source, Path origin, Path stagingPath, Throwable cause) {
    super(problem + where(source, origin, stagingPath), cause);
    this.source = source;
    this.origin = origin;
    this.stagingPath = stagingPath;
  }

  private static String where(URI source, Path origin, Path stagingPath) {
    StringBuilder at = new StringBuilder();
    if (source != null) {
      at.append(" [source ").append(source);
      at.append(origin == null ? ", no origin" : ", origin " + origin);
      if (stagingPath != null) {
        at.append(", staged at ").append(stagingPath);
      }
      at.append(']');
    }
    return at.toString();
  }

  /**
   * The source as the caller gave it.
   *
   * @return the source URI ({@code stream:<name>} for a stream); empty if the failure concerns no
   *     one source (creating a scope, say)
   */
  public Optional<URI> source() {
    return Optional.ofNullable(source);
  }

  /**
   * The file relative sources were resolved against; empty for streams.
   *
   * @return the origin given with the source; empty for a stream, an absolute source given
   *     without one, or a failure that concerns no source
   */
  public Optional<Path> origin() {
    return Optional.ofNullable(origin);
  }

  /**
   * Where the content is or would have been staged.
   *
   * @return the staging path; empty if the failure came before one was chosen
   */
  public Optional<Path> stagingPath() {
    return Optional.ofNullable(stagingPath);
  }
}
