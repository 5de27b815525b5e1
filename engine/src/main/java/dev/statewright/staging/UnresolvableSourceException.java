package dev.statewright.staging;

import java.net.URI;
import java.nio.file.Path;

/**
 * A source URI is not one staging understands (another scheme, a host, a query), or is relative
 * with no origin to resolve it against, as for a bundle read from a stream.
 */
public final class UnresolvableSourceException extends StagingException {
  private static final long serialVersionUID = 1L;

  UnresolvableSourceException(String problem, URI source, Path origin) {
    super(problem, source, origin, null, null);
  }
}
