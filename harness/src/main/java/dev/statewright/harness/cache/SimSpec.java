package dev.statewright.harness.cache;

/**
 * A spec that is its version: distinct versions are distinct specs, so every newer version needs
 * a rebuild under the default change policy. Every spec reads the secret {@link #SECRET}, so a
 * change to it must rebuild every client (C9).
 *
 * @param version the version
 */
public record SimSpec(long version) {
  /** The dependency every spec has. */
  public static final String SECRET = "secret/shared";

  @Override
  public String toString() {
    return "s" + version;
  }
}
