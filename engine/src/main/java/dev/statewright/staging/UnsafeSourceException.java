package dev.statewright.staging;

import java.net.URI;
import java.nio.file.Path;

/**
 * A source was refused: it escapes where it may be read from, holds a symlink pointing out of its
 * tree, or holds a special file (FIFO, device, socket). Nothing was staged.
 */
public final class UnsafeSourceException extends StagingException {
  private static final long serialVersionUID = 1L;

  UnsafeSourceException(String problem, URI source, Path origin) {
    super(problem, source, origin, null, null);
  }
}
