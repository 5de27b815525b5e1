package dev.statewright.staging;

import java.net.URI;
import java.nio.file.Path;

/** A source names a path that does not exist, or is not the kind of file it should be. */
public final class SourceNotFoundException extends StagingException {
  private static final long serialVersionUID = 1L;

  SourceNotFoundException(String problem, URI source, Path origin, Throwable cause) {
    super(problem, source, origin, null, cause);
  }
}
