package dev.statewright.cache;

/**
 * One call of the {@link Reconfigurer}, identified by object identity: the served client it
 * updates and the spec, version and revision it updates it to. Its outcome is applied only if the
 * entry still holds it (a delete, a timeout or an expiry lets go of it first).
 */
final class ReconfigureRun<S, C> {
  final S spec;
  final long version;
  final long revision;
  final ServedClient<C> client;

  ReconfigureRun(S spec, long version, long revision, ServedClient<C> client) {
    this.spec = spec;
    this.version = version;
    this.revision = revision;
    this.client = client;
  }
}
