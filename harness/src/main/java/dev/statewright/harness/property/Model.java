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

  /**
   * The property's name, for reports.
   *
   * @return the name
   */
  String name();

  /**
   * The state before any command.
   *
   * @return the initial model state
   */
  S initialState();

  /**
   * A command whose precondition holds in {@code state}, drawn from {@code random}.
   *
   * @param state the model state the command will run in
   * @param random the only source of randomness, so that runs replay
   * @return the command
   */
  Command<S, R> generate(S state, SplittableRandom random);

  /**
   * A fresh system running on {@code scheduler}.
   *
   * @param scheduler every thread and timer of the system goes through it
   * @return the system
   */
  R start(Scheduler scheduler);

  /**
   * Called once the program is done, before the settle time: stop injecting faults, say.
   *
   * @param system the system under test
   */
  default void quiesce(R system) { }

  /**
   * Stops the system after the program and the settle time, and returns every invariant
   * violation its monitors saw (empty if none).
   *
   * @param system the system under test
   * @return the violations
   */
  List<String> finish(R system);

  /**
   * Virtual time the system gets after the program, before {@link #finish}.
   *
   * @return the settle time
   */
  default Duration settle() {
    return Duration.ofMinutes(5);
  }
}
