package dev.statewright.cache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Which live keys may read which dependency (the Secret holding a token): a superset of what the
 * entries' nodes say, so that {@code dependencyChanged} finds every dependent, checked against each
 * node before it rebuilds anything. Dead keys are forgotten.
 *
 * @param <K> the key type
 */
final class DependencyIndex<K> {
  /*
   * Overview: dependency -> the keys whose spec may read it, a concurrent map of concurrent sets.
   *
   * Concurrency: lock-free (the map's per-bin locks only). A key is added after the CAS that gives
   * it a dependency and removed after the CAS that drops it (or removes the key). Each add and
   * remove then reads the key's current node and undoes itself if the node says otherwise, so
   * whatever order a concurrent (or reentrant) add and remove run in, the last to finish leaves
   * the index agreeing with the node: a re-add is never lost and a removed key never stays. A set
   * that becomes empty leaves the map with its last key.
   *
   * Transitions: none; a key is in a dependency's set or it is not.
   *
   * Ordering of this file: fields, reads, add, remove.
   */
  private final ConcurrentHashMap<Object, Set<K>> dependents = new ConcurrentHashMap<>();
  /** The entry of a key now, to check whether it still depends on a dependency. */
  private final Function<K, ? extends Entry<K, ?, ?>> entries;

  DependencyIndex(Function<K, ? extends Entry<K, ?, ?>> entries) {
    this.entries = entries;
  }

  /** The keys that may depend on {@code dependency}; a live view, possibly empty. */
  Set<K> dependentsOf(Object dependency) {
    return dependents.getOrDefault(dependency, Set.of());
  }

  /** Whether some key may depend on {@code dependency}. */
  boolean hasDependents(Object dependency) {
    return dependents.containsKey(dependency);
  }

  /** Dependencies indexed. */
  int dependencies() {
    return dependents.size();
  }

  /** Keys indexed, counted once per dependency. */
  int size() {
    int indexed = 0;
    for (Set<K> keys : dependents.values()) {
      indexed += keys.size();
    }
    return indexed;
  }

  /**
   * {@code key} (inserted, or changed) reads {@code deps}: indexed, unless its node, read after,
   * says otherwise (it was removed meanwhile, even by user code on this very thread).
   */
  void add(K key, Collection<?> deps) {
    for (Object dep : deps) {
      addOne(key, dep);
      if (!dependsNow(key, dep)) {
        removeOne(key, dep);
        if (dependsNow(key, dep)) {
          addOne(key, dep); // re-added meanwhile
        }
      }
    }
  }

  /** {@code key} (removed, or changed) no longer reads {@code deps}, unless its node says so. */
  void remove(K key, Collection<?> deps) {
    for (Object dep : deps) {
      removeOne(key, dep);
      if (dependsNow(key, dep)) {
        addOne(key, dep);
      }
    }
  }

  private void addOne(K key, Object dep) {
    dependents.compute(dep, (d, keys) -> {
      Set<K> set = keys != null ? keys : ConcurrentHashMap.newKeySet();
      set.add(key);
      return set;
    });
  }

  private void removeOne(K key, Object dep) {
    dependents.computeIfPresent(dep, (d, keys) -> {
      keys.remove(key);
      return keys.isEmpty() ? null : keys;
    });
  }

  /** Whether {@code key}'s live node depends on {@code dep} now. */
  private boolean dependsNow(K key, Object dep) {
    Entry<K, ?, ?> now = entries.apply(key);
    Node<K, ?, ?> n = now == null ? null : now.node();
    return n != null && n.isLive() && n.dependencies.contains(dep);
  }

  /** {@code key} changed its dependencies from {@code before} to {@code after}. */
  void changed(K key, Collection<?> before, Collection<?> after) {
    add(key, after);
    List<Object> dropped = new ArrayList<>(before);
    dropped.removeAll(after);
    remove(key, dropped);
  }
}
