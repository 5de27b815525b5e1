package dev.statewright.josdk;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Numbers the generations of each custom resource so that versions never go back: a resource's
 * {@code metadata.generation} counts from the last version its key was given, and a deleted and
 * re-created resource (a new {@code metadata.uid}, generation 1 again) counts on from there, as
 * {@code InformerEventSource} of statewright-kubernetes does.
 *
 * <p>Thread-safe: each key's record changes atomically ({@link ConcurrentHashMap#compute}).
 */
final class Incarnations {
  /**
   * A key's resource as last seen: its uid, the version its generations count from, the last
   * version given, and whether that incarnation was deleted (its late events then change nothing).
   */
  private record Incarnation(String uid, long base, long last, boolean deleted) { }

  /**
   * What {@link #advance} found.
   *
   * @param version the version of the resource as given
   * @param isNew whether no version this high was given to its key before
   */
  record Advance(long version, boolean isNew) { }

  private final ConcurrentMap<String, Incarnation> byKey = new ConcurrentHashMap<>();

  /** The version of {@code resource} under {@code key}, recorded if it is newer than any before. */
  Advance advance(String key, HasMetadata resource) {
    String uid = resource.getMetadata().getUid();
    long generation = Objects.requireNonNullElse(resource.getMetadata().getGeneration(), 1L);
    Advance[] result = new Advance[1];
    byKey.compute(key, (k, known) -> {
      boolean sameUid = known != null && Objects.equals(known.uid(), uid);
      if (sameUid && known.deleted()) {
        result[0] = new Advance(known.last(), false);
        return known;
      }
      long last = known == null ? 0 : known.last();
      long base = known == null ? 0 : sameUid ? known.base() : last;
      long version = base + generation;
      result[0] = new Advance(version, version > last);
      return version > last ? new Incarnation(uid, base, version, false) : known;
    });
    return result[0];
  }

  /**
   * The version at which {@code key} is deleted: one past the last version it was given. Later
   * events of the same incarnation ({@code resource}'s uid) change nothing.
   */
  long delete(String key, HasMetadata resource) {
    Incarnation gone = byKey.compute(key, (k, known) -> {
      long version = (known == null ? 0 : known.last()) + 1;
      return new Incarnation(resource.getMetadata().getUid(), version, version, true);
    });
    return gone.last();
  }
}
