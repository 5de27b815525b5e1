package dev.statewright.staging;

import java.net.URI;
import java.nio.file.Path;

/** {@link Staged#verify()} found content whose digest differs from the one recorded at staging. */
public final class StagedContentChangedException extends StagingException {
  private static final long serialVersionUID = 1L;

  StagedContentChangedException(URI source, Path origin, Path stagingPath, String expected,
      String actual) {
    super("staged content changed after staging: expected " + expected + ", found " + actual,
        source, origin, stagingPath, null);
  }
}
