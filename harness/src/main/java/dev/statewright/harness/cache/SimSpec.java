package dev.statewright.harness.cache;

import java.util.List;

/**
 * A spec that is its version: distinct versions are distinct specs, so every newer version needs
 * a rebuild under the default change policy. Every spec reads the secret {@link #SECRET}, so a
 * change to it must rebuild every client (C9). A poisoned spec is a bad one a source may send:
 * comparing it with {@code equals} throws, and so does hashing or comparing one of its
 * dependencies.
 *
 * @param version the version
 * @param poisoned whether {@code equals} throws when this spec is on either side
 */
public record SimSpec(long version, boolean poisoned) {
  /** The dependency every spec has. */
  public static final String SECRET = "secret/shared";
  /** The other dependency of a poisoned spec: its {@code hashCode} and {@code equals} throw. */
  private static final Object UNHASHABLE = new Object() {
    @Override
    public int hashCode() {
      throw new IllegalStateException("injected: a dependency whose hashCode throws");
    }

    @Override
    public boolean equals(Object o) {
      throw new IllegalStateException("injected: a dependency whose equals throws");
    }

    @Override
    public String toString() {
      return "unhashable";
    }
  };

  /**
   * A well-behaved spec of {@code version}.
   *
   * @param version the version, which is the whole spec
   */
  public SimSpec(long version) {
    this(version, false);
  }

  /**
   * What the spec reads, for the cache's {@code dependsOn}.
   *
   * @return the secret, and for a poisoned spec a dependency that cannot be hashed or compared
   */
  public List<Object> dependencies() {
    return poisoned ? List.of(SECRET, UNHASHABLE) : List.of(SECRET);
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
