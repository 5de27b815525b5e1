package dev.statewright.josdk;

import java.util.Objects;
import java.util.Set;

/**
 * What one custom resource asks for at one generation: its spec, and the Secrets that spec reads,
 * named in the resource's namespace. This is the spec type of the {@link ClientPerResource}
 * cache; the client factory sees only {@link #spec()}.
 *
 * @param namespace the resource's namespace; empty for a cluster-scoped resource
 * @param spec the resource's spec, as the operator's mapper derived it
 * @param secrets the names of the Secrets the spec reads, in {@code namespace}
 * @param <S> the spec type
 */
public record Desired<S>(String namespace, S spec, Set<String> secrets) {

  /**
   * Checks and copies the parts.
   *
   * @param namespace the resource's namespace; empty for a cluster-scoped resource
   * @param spec the resource's spec
   * @param secrets the names of the Secrets the spec reads
   */
  public Desired {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(spec, "spec");
    secrets = Set.copyOf(Objects.requireNonNull(secrets, "secrets"));
  }

  /**
   * The Secrets the spec reads, as the dependencies of its cache entry: {@code namespace/name}.
   *
   * @return one {@code namespace/name} a Secret
   */
  public Set<String> secretKeys() {
    return secrets.stream().map(name -> ClientPerResource.key(namespace, name))
        .collect(java.util.stream.Collectors.toUnmodifiableSet());
  }
}
