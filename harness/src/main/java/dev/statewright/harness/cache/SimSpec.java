package dev.statewright.harness.cache;

/**
 * A spec that is its version: distinct versions are distinct specs, so every newer version needs
 * a rebuild under the default change policy.
 *
 * @param version the version
 */
public record SimSpec(long version) {
  @Override
  public String toString() {
    return "s" + version;
  }
}
