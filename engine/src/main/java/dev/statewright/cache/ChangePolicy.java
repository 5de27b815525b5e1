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

  /** How {@code next} differs from {@code previous}. */
  Change classify(S previous, S next);

  /** The default: equal specs change nothing, any difference rebuilds. */
  static <S> ChangePolicy<S> byEquality() {
    return (previous, next) -> previous.equals(next) ? Change.NONE : Change.REBUILD;
  }

  /**
   * Rebuilds only when one of {@code fields} differs (by {@code equals}); any other difference is
   * {@link Change#METADATA}, and equal specs are {@link Change#NONE}.
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
