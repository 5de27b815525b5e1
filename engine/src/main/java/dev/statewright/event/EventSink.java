package dev.statewright.event;

import java.util.Map;

/**
 * Where an {@link EventSource} delivers what it sees. A {@code ClientCache} is one; a sink never
 * throws back into its source: bad events are logged and recorded against their key.
 *
 * @param <K> the key type
 * @param <S> the spec type
 */
public interface EventSink<K, S> {

  /**
   * {@code key} now has {@code spec} at {@code version}.
   *
   * @param key the key that was created or changed
   * @param spec its new spec, never null
   * @param version the store's version of the change
   */
  void upsert(K key, S spec, long version);

  /**
   * {@code key} was deleted at {@code version}.
   *
   * @param key the key that was deleted
   * @param version the store's version of the delete
   */
  void delete(K key, long version);

  /**
   * The complete current state; keys absent from {@code all} are deleted.
   *
   * @param all every key the store holds now, with its spec and version; empty deletes every key
   */
  void resync(Map<K, Versioned<S>> all);

  /**
   * The complete state as of version {@code asOfVersion} (a store's snapshot revision); keys
   * absent from {@code all} and not newer than it are deleted. Sources that know how old their
   * snapshot is should say so: only then can a delayed snapshot never undo a newer event.
   *
   * @param all every key the store held at {@code asOfVersion}, with its spec and version
   * @param asOfVersion the store version the snapshot was taken at
   */
  default void resync(Map<K, Versioned<S>> all, long asOfVersion) {
    resync(all);
  }

  /**
   * The source saw a change to {@code key} it could not turn into a spec (a file that does not
   * parse). The key keeps what it serves; the problem is recorded as its last error.
   *
   * @param key the key whose change was rejected
   * @param problem why it could not be turned into a spec, as the key's last error reports it
   */
  default void reject(K key, Exception problem) { }

  /**
   * Something specs may depend on changed (the Secret or file holding a token): every entry
   * whose spec depends on {@code dependency} is rebuilt.
   *
   * @param dependency what changed, compared with {@code equals} to what specs declare they depend
   *     on (for {@link DirectoryEventSource}, the file's bare name)
   */
  default void dependencyChanged(Object dependency) { }

  /**
   * The source has delivered every event with a version at or below {@code version}: a cache fed
   * only by this source holds the store's state as of {@code version} or later, so it can answer
   * reads "as of {@code version}" (see {@code ClientCache.acquireAsOf}). Versions are the store's
   * (an etcd revision, a Kubernetes resourceVersion), the ones events carry; a report lower than an
   * earlier one says nothing new and is ignored. A source that reports progress should say so in
   * {@link EventSource#reportsProgress()}.
   *
   * @param version the store version up to which every event has been delivered
   */
  default void progress(long version) { }
}
