package dev.statewright.harness.property;

import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The sequential reference of a system, and how to make, drive and check one.
 *
 * @param <S> the model state: an immutable value with equals and hashCode
 * @param <R> the system under test
 */
public interface Model<S, R> {

  /** The property's name, for reports. */
  String name();

  /** The state before any command. */
  S initialState();

  /** A command whose precondition holds in {@code state}, drawn from {@code random}. */
  Command<S, R> generate(S state, SplittableRandom random);

  /** A fresh system running on {@code scheduler}. */
  R start(Scheduler scheduler);

  /** Called once the program is done, before the settle time: stop injecting faults, say. */
  default void quiesce(R system) { }

  /**
   * Stops the system after the program and the settle time, and returns every invariant
   * violation its monitors saw (empty if none).
   */
  List<String> finish(R system);

  /** Virtual time the system gets after the program, before {@link #finish}. */
  default Duration settle() {
    return Duration.ofMinutes(5);
  }
}
