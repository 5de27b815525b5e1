package dev.statewright.cache;

import dev.statewright.lease.LeasedResource;

/**
 * The client an entry serves, with the spec and version it was built from. {@code revision}
 * counts rebuild-worthy changes (spec or dependency) so a dependency change can ask for a new
 * client of the same version.
 */
record Served<S, C>(S spec, long version, long revision, LeasedResource<C> client) { }
