package dev.statewright.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Judges whether a new spec needs a new client. Must be a pure function: it may be called more
 * than once for one event when threads race.
 *
 * @param <S> the spec type
 */
@FunctionalInterface
public interface ChangePolicy<S> {

  /**
   * How {@code next} differs from {@code previous}.
   *
   * @param previous the spec the entry holds now, never null
   * @param next the newer spec, never null
   * @return {@link Change#NONE} if nothing changed, {@link Change#METADATA} if the served client
   *     stays, {@link Change#REBUILD} if it needs a new one; if it throws, the update fails and
   *     the error is recorded as the key's last error
   */
  Change classify(S previous, S next);

  /**
   * The default: equal specs change nothing, any difference rebuilds.
   *
   * @param <S> the spec type
   * @return a policy comparing specs with {@code equals}
   */
  static <S> ChangePolicy<S> byEquality() {
    return (previous, next) -> previous.equals(next) ? Change.NONE : Change.REBUILD;
  }

  /**
   * Rebuilds only when one of {@code fields} differs (by {@code equals}); any other difference is
   * {@link Change#METADATA}, and equal specs are {@link Change#NONE}.
   *
   * @param <S> the spec type
   * @param fields the parts of a spec a client is built from, each compared with {@code equals}
   * @return the policy
   * @throws NullPointerException if a field is null
   * @throws IllegalArgumentException if no field is given
   */
  @SafeVarargs
  static <S> ChangePolicy<S> rebuildWhenChanged(Function<? super S, ?>... fields) {
    List<Function<? super S, ?>> chosen = new ArrayList<>(fields.length);
    for (Function<? super S, ?> field : fields) {
      chosen.add(Objects.requireNonNull(field, "field"));
    }
    if (chosen.isEmpty()) {
      throw new IllegalArgumentException("rebuildWhenChanged needs at least one field");
    }
    return (previous, next) -> {
      if (previous.equals(next)) {
        return Change.NONE;
      }
      for (Function<? super S, ?> field : chosen) {
        if (!Objects.equals(field.apply(previous), field.apply(next))) {
          return Change.REBUILD;
        }
      }
      return Change.METADATA;
    };
  }
}
