package dev.statewright.harness.lifecycle;

import dev.statewright.harness.property.Command;
import dev.statewright.harness.property.Model;
import dev.statewright.harness.property.PropertyRunner;
import dev.statewright.harness.property.PropertyTest;
import dev.statewright.lifecycle.IllegalTransitionException;
import dev.statewright.lifecycle.Lifecycle;
import dev.statewright.lifecycle.StateMachine;
import dev.statewright.lifecycle.Transition;
import dev.statewright.time.Scheduler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A ready property for a lifecycle of your own: generated sequences of events are fired at a few
 * {@link StateMachine}s, by several clients at once, on the simulated scheduler and on real
 * threads, and every step is checked against the transition table: a permitted event moves the
 * machine where the table says, any other is refused with {@link IllegalTransitionException},
 * {@code fireIf} moves only from the state it names, and concurrent histories must be
 * linearizable. Invariants you state are checked on every transition a machine makes.
 *
 * <pre>{@code
 * PropertyRunner.check(new LifecycleModel<>(Door.LIFECYCLE)
 *     .invariant("a removed door stays removed", t -> t.from() != Door.REMOVED),
 *     Settings.defaults().runs(300));
 * }</pre>
 *
 * <p>or, with {@link PropertyTest}, a subclass with a constructor without parameters.
 *
 * @param <S> the state type
 * @param <E> the event type
 */
public class LifecycleModel<S extends Enum<S>, E extends Enum<E>>
    implements Model<List<S>, LifecycleModel.Machines<S, E>> {

  /** What {@code fire} or {@code fireIf} returns for an event the table does not permit. */
  public static final String REFUSED = "refused";

  private final Lifecycle<S, E> lifecycle;
  private final int machines;
  private final List<S> states;
  private final List<E> events;
  private final List<Invariant<S, E>> invariants = new ArrayList<>();

  /**
   * A property of {@code lifecycle} over two machines.
   *
   * @param lifecycle the lifecycle under test
   */
  public LifecycleModel(Lifecycle<S, E> lifecycle) {
    this(lifecycle, 2);
  }

  /**
   * A property of {@code lifecycle} over {@code machines} machines.
   *
   * @param lifecycle the lifecycle under test
   * @param machines how many machines the events are fired at, at least 1
   */
  public LifecycleModel(Lifecycle<S, E> lifecycle, int machines) {
    this.lifecycle = Objects.requireNonNull(lifecycle, "lifecycle");
    if (machines < 1) {
      throw new IllegalArgumentException("machines must be at least 1, got " + machines);
    }
    this.machines = machines;
    this.states = List.of(lifecycle.initial().getDeclaringClass().getEnumConstants());
    this.events = eventsOf(lifecycle);
  }

  /**
   * Adds an invariant checked on every transition any machine makes.
   *
   * @param description what must hold, for the report
   * @param holds whether a transition keeps it
   * @return this model
   */
  public final LifecycleModel<S, E> invariant(String description,
      Predicate<? super Transition<S, E>> holds) {
    invariants.add(new Invariant<>(Objects.requireNonNull(description, "description"),
        Objects.requireNonNull(holds, "holds")));
    return this;
  }

  @Override
  public String name() {
    return lifecycle.name() + " lifecycle";
  }

  @Override
  public List<S> initialState() {
    return Collections.nCopies(machines, lifecycle.initial());
  }

  @Override
  public Command<List<S>, Machines<S, E>> generate(List<S> state, SplittableRandom random) {
    int machine = random.nextInt(machines);
    E event = event(state.get(machine), random);
    if (random.nextInt(3) == 0) {
      S expected = random.nextBoolean() ? state.get(machine) : states.get(random.nextInt(
          states.size()));
      return new FireIf<>(lifecycle, machine, expected, event);
    }
    return new Fire<>(lifecycle, machine, event);
  }

  /** Mostly an event the table permits where the model is, sometimes any event at all. */
  private E event(S current, SplittableRandom random) {
    List<E> permitted = List.copyOf(lifecycle.permitted(current));
    if (!permitted.isEmpty() && random.nextInt(4) != 0) {
      return permitted.get(random.nextInt(permitted.size()));
    }
    return events.get(random.nextInt(events.size()));
  }

  @Override
  public Machines<S, E> start(Scheduler scheduler) {
    return new Machines<>(lifecycle, machines, List.copyOf(invariants));
  }

  @Override
  public List<String> finish(Machines<S, E> system) {
    return List.copyOf(system.violations);
  }

  private static <S extends Enum<S>, E extends Enum<E>> List<E> eventsOf(Lifecycle<S, E> lifecycle) {
    if (lifecycle.transitions().isEmpty()) {
      throw new IllegalArgumentException(lifecycle + " has no transitions to fire");
    }
    return List.of(lifecycle.transitions().get(0).event().getDeclaringClass().getEnumConstants());
  }

  private record Invariant<S extends Enum<S>, E extends Enum<E>>(String description,
      Predicate<? super Transition<S, E>> holds) { }

  /**
   * The system under test: the machines, and what their listeners saw go wrong.
   *
   * @param <S> the state type
   * @param <E> the event type
   */
  public static final class Machines<S extends Enum<S>, E extends Enum<E>> {
    private final Lifecycle<S, E> lifecycle;
    private final List<StateMachine<S, E>> machines = new ArrayList<>();
    private final List<Invariant<S, E>> invariants;
    private final List<String> violations = new CopyOnWriteArrayList<>();

    Machines(Lifecycle<S, E> lifecycle, int count, List<Invariant<S, E>> invariants) {
      this.lifecycle = lifecycle;
      this.invariants = invariants;
      for (int i = 0; i < count; i++) {
        machines.add(lifecycle.newMachine("m" + i, this::check));
      }
    }

    /**
     * The machine numbered {@code index}.
     *
     * @param index from 0
     * @return the machine
     */
    public StateMachine<S, E> machine(int index) {
      return machines.get(index);
    }

    private void check(Object key, Transition<S, E> step) {
      if (!lifecycle.next(step.from(), step.event()).equals(Optional.of(step.to()))) {
        violations.add(key + " made " + step + ", which the table does not permit");
      }
      for (Invariant<S, E> invariant : invariants) {
        if (!holds(invariant, step)) {
          violations.add(key + ": " + step + " breaks the invariant '" + invariant.description()
              + "'");
        }
      }
    }

    private static <S extends Enum<S>, E extends Enum<E>> boolean holds(
        Invariant<S, E> invariant, Transition<S, E> step) {
      try {
        return invariant.holds().test(step);
      } catch (RuntimeException e) {
        return false;
      }
    }
  }

  /** {@code fire(event)} on one machine: where the table leads, or refused. */
  private record Fire<S extends Enum<S>, E extends Enum<E>>(Lifecycle<S, E> lifecycle, int machine,
      E event) implements Command<List<S>, Machines<S, E>> {

    @Override
    public Optional<List<S>> apply(List<S> state, Object result) {
      Optional<S> next = lifecycle.next(state.get(machine), event);
      Object expected = next.isPresent() ? next.get() : REFUSED;
      return expected.equals(result) ? applyUnknown(state) : Optional.empty();
    }

    @Override
    public Optional<List<S>> applyUnknown(List<S> state) {
      return Optional.of(lifecycle.next(state.get(machine), event)
          .map(to -> with(state, machine, to)).orElse(state));
    }

    @Override
    public CompletionStage<Object> run(Machines<S, E> system) {
      try {
        return CompletableFuture.completedFuture(system.machine(machine).fire(event));
      } catch (IllegalTransitionException refused) {
        return CompletableFuture.completedFuture(REFUSED);
      }
    }

    @Override
    public Object partition() {
      return machine;
    }

    @Override
    public String toString() {
      return "m" + machine + ".fire(" + event + ")";
    }
  }

  /** {@code fireIf(expected, event)}: moves only from {@code expected}; refused if not permitted. */
  private record FireIf<S extends Enum<S>, E extends Enum<E>>(Lifecycle<S, E> lifecycle,
      int machine, S expected, E event) implements Command<List<S>, Machines<S, E>> {

    @Override
    public Optional<List<S>> apply(List<S> state, Object result) {
      Optional<S> next = lifecycle.next(expected, event);
      boolean moves = next.isPresent() && state.get(machine) == expected;
      Object allowed = next.isEmpty() ? REFUSED : moves;
      return allowed.equals(result) ? applyUnknown(state) : Optional.empty();
    }

    @Override
    public Optional<List<S>> applyUnknown(List<S> state) {
      Optional<S> next = lifecycle.next(expected, event);
      boolean moves = next.isPresent() && state.get(machine) == expected;
      return Optional.of(moves ? with(state, machine, next.get()) : state);
    }

    @Override
    public CompletionStage<Object> run(Machines<S, E> system) {
      try {
        return CompletableFuture.completedFuture(system.machine(machine).fireIf(expected, event));
      } catch (IllegalTransitionException refused) {
        return CompletableFuture.completedFuture(REFUSED);
      }
    }

    @Override
    public Object partition() {
      return machine;
    }

    @Override
    public String toString() {
      return "m" + machine + ".fireIf(" + expected + ", " + event + ")";
    }
  }

  private static <S> List<S> with(List<S> state, int index, S value) {
    List<S> next = new ArrayList<>(state);
    next.set(index, value);
    return List.copyOf(next);
  }

  /**
   * Checks this property with {@link PropertyRunner#check} and its default settings: a shortcut
   * for tests that do not use {@link PropertyTest}.
   *
   * @param runs runs to make
   * @return what the check did
   */
  public final PropertyRunner.Summary check(int runs) {
    return PropertyRunner.check(this, dev.statewright.harness.property.Settings.defaults()
        .runs(runs));
  }
}
