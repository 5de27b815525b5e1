package dev.statewright.staging;

import java.net.URI;
import java.nio.file.Path;

/**
 * A source was refused: it escapes where it may be read from, holds a symlink pointing out of its
 * tree, holds a special file (FIFO, device, socket), or holds the staging directory its copy would
 * be written to. Nothing was staged.
 */
public final class UnsafeSourceException extends StagingException {
  private static final long serialVersionUID = 1L;

  UnsafeSourceException(String problem, URI source, Path origin) {
    super(problem, source, origin, null, null);
  }
}
