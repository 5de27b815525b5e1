package dev.statewright.harness.cache;

/**
 * A spec that is its version: distinct versions are distinct specs, so every newer version needs
 * a rebuild under the default change policy. Every spec reads the secret {@link #SECRET}, so a
 * change to it must rebuild every client (C9). A poisoned spec is a bad one a source may send:
 * comparing it with {@code equals} throws.
 *
 * @param version the version
 * @param poisoned whether {@code equals} throws when this spec is on either side
 */
public record SimSpec(long version, boolean poisoned) {
  /** The dependency every spec has. */
  public static final String SECRET = "secret/shared";

  /**
   * A well-behaved spec of {@code version}.
   *
   * @param version the version, which is the whole spec
   */
  public SimSpec(long version) {
    this(version, false);
  }

  @Override
  public boolean equals(Object o) {
    if (poisoned || o instanceof SimSpec other && other.poisoned) {
      throw new IllegalStateException("injected: a spec whose equals throws");
    }
    return o instanceof SimSpec other && other.version == version;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(version);
  }

  @Override
  public String toString() {
    return (poisoned ? "poisoned-s" : "s") + version;
  }
}
