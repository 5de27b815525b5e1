package dev.statewright.staging;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Turns a {@code file:} source URI into a directory to copy, against the origin file the caller
 * gave, never against a workspace. Accepts what users write: {@code file://./m} and
 * {@code file://../m} (which {@link URI} parses with "." or ".." as the authority) relative to the
 * origin's directory, and {@code file:///abs/m} (or {@code file:/abs/m}). A relative source may
 * reach at most one directory above its origin's directory, so {@code file://../../etc} is refused.
 */
final class SourceLocator {
  private SourceLocator() { }

  /** The real path of the directory {@code source} names. */
  static Path locate(URI source, Path origin) {
    try {
      return resolve(source, origin);
    } catch (InvalidPathException e) {
      throw unresolvable("'" + source + "' does not name a path this platform can open ("
          + e.getReason() + ")", source, origin);
    }
  }

  private static Path resolve(URI source, Path origin) {
    if (!"file".equalsIgnoreCase(source.getScheme())) {
      throw unresolvable("unsupported scheme '" + source.getScheme() + "': only file sources "
          + "(file://./relative, file://../relative, file:///absolute) can be staged", source, origin);
    }
    if (source.isOpaque() || source.getRawQuery() != null || source.getRawFragment() != null) {
      throw unresolvable("'" + source + "' is not a form staging understands: write file://./path "
          + "relative to the origin, or file:///absolute/path", source, origin);
    }
    String authority = source.getAuthority();
    if (authority == null || authority.isEmpty()) {
      return existing(Path.of(source.getPath()).normalize(), source, origin);
    }
    if (!authority.equals(".") && !authority.equals("..")) {
      throw unresolvable("'" + source + "' names host '" + authority + "'; write file://./"
          + authority + source.getPath() + " for a path relative to the origin, or file:///... for an"
          + " absolute one", source, origin);
    }
    return relative(authority + source.getPath(), source, origin);
  }

  private static Path relative(String path, URI source, Path origin) {
    if (origin == null) {
      throw unresolvable("relative source needs an origin file to resolve against; content read "
          + "from a stream has none, so use an absolute file:/// source", source, null);
    }
    Path base = originDirectory(origin, source);
    Path boundary = base.getParent() == null ? base : base.getParent();
    Path resolved = base.resolve(path).normalize();
    if (!resolved.startsWith(boundary)) {
      throw new UnsafeSourceException("relative source resolves to " + resolved + ", outside "
          + boundary + " (a relative source may reach at most one directory above its origin's)",
          source, origin);
    }
    Path real = existing(resolved, source, origin);
    Path realBoundary = realOrSelf(boundary);
    if (!real.startsWith(realBoundary)) {
      throw new UnsafeSourceException("relative source " + resolved + " is a link to " + real
          + ", outside " + realBoundary, source, origin);
    }
    return real;
  }

  /**
   * The real path of the origin's directory: {@code ./x}, {@code ../x} and symlinked directories
   * are resolved by the kernel before the boundary is computed, as the user meant them.
   */
  private static Path originDirectory(Path origin, URI source) {
    Path absolute = origin.toAbsolutePath();
    Path dir = Files.isDirectory(absolute) || absolute.getParent() == null ? absolute : absolute.getParent();
    try {
      return dir.toRealPath();
    } catch (IOException e) {
      throw new SourceNotFoundException("the origin's directory " + dir + " cannot be resolved: "
          + e, source, origin, e);
    }
  }

  private static Path existing(Path path, URI source, Path origin) {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      throw new SourceNotFoundException("source not found at " + path, source, origin, null);
    }
    if (!Files.isDirectory(path)) {
      throw new SourceNotFoundException(path + " is not a directory; stageDirectory stages a "
          + "directory (use stageStream for a single file's content)", source, origin, null);
    }
    try {
      return path.toRealPath();
    } catch (IOException e) {
      throw new SourceNotFoundException("cannot resolve " + path + ": " + e, source, origin, e);
    }
  }

  private static Path realOrSelf(Path path) {
    try {
      return path.toRealPath();
    } catch (IOException e) {
      return path;
    }
  }

  private static UnresolvableSourceException unresolvable(String problem, URI source, Path origin) {
    return new UnresolvableSourceException(problem, source, origin);
  }
}
