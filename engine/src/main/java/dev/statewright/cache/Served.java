package dev.statewright.cache;

/**
 * The client an entry serves, with the spec and version it was built from. {@code revision}
 * counts rebuild-worthy changes (spec, dependency, invalidation) so a dependency change can ask
 * for a new client of the same version. {@code broken}: the client was invalidated and a
 * replacement is due; it is served only where staleness is tolerated (C11).
 */
record Served<S, C>(S spec, long version, long revision, ServedClient<C> client, boolean broken) {
  Served(S spec, long version, long revision, ServedClient<C> client) {
    this(spec, version, revision, client, false);
  }
}
