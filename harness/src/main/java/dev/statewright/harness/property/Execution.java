package dev.statewright.harness.property;

import dev.statewright.harness.linearizability.Budget;
import dev.statewright.harness.linearizability.History;
import dev.statewright.harness.linearizability.LinearizabilityChecker;
import dev.statewright.harness.linearizability.Operation;
import dev.statewright.harness.linearizability.SequentialSpec;
import dev.statewright.harness.linearizability.Verdict;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

/** Runs a program on a simulated scheduler or on real threads and checks what happened. */
final class Execution {
  private static final long MAX_STEPS = 100_000;
  private static final Duration MAX_VIRTUAL_TIME = Duration.ofMinutes(30);

  private final LinearizabilityChecker checker;

  /** A checker of {@code checkerSteps} steps (and the default memory and time); timelines are the runner's. */
  Execution(long checkerSteps) {
    this.checker = new LinearizabilityChecker(Budget.defaults().withSteps(checkerSteps)).withoutTimelines();
  }

  /** Runs {@code program} deterministically: everything follows from {@code seed}. */
  <S, R> Outcome simulate(Model<S, R> model, Program<S, R> program, long seed, Strategy strategy) {
    SimulatedScheduler scheduler = new SimulatedScheduler(seed, strategy);
    History<Command<S, R>, Object> history = new History<>();
    List<String> violations = new ArrayList<>();
    R system = model.start(scheduler);
    try {
      Chain<S, R> main = new Chain<>("main", program.prefix(), system, scheduler, history, () -> {
        for (int b = 0; b < program.branches().size(); b++) {
          new Chain<>("b" + (b + 1), program.branches().get(b), system, scheduler, history, () -> { })
              .start();
        }
      });
      main.start();
      scheduler.run(MAX_VIRTUAL_TIME, MAX_STEPS);
      model.quiesce(system);
      scheduler.run(model.settle(), MAX_STEPS);
    } catch (RuntimeException | AssertionError e) {
      violations.add("the system threw at step " + scheduler.steps() + ": " + e);
    }
    violations.addAll(model.finish(system));
    return check(model, program, history.operations(), violations, scheduler.trace(), scheduler.steps());
  }

  /** Runs {@code program} on real threads: the prefix here, each branch on its own thread. */
  <S, R> Outcome onThreads(Model<S, R> model, Program<S, R> program) {
    History<Command<S, R>, Object> history = new History<>();
    List<String> violations = new ArrayList<>();
    R system = model.start(Scheduler.system());
    try {
      runSequentially("main", program.prefix(), system, history);
      CyclicBarrier start = new CyclicBarrier(Math.max(1, program.branches().size()));
      List<Thread> threads = new ArrayList<>();
      List<Throwable> failures = new ArrayList<>();
      for (int b = 0; b < program.branches().size(); b++) {
        List<Command<S, R>> branch = program.branches().get(b);
        String name = "b" + (b + 1);
        Thread thread = new Thread(() -> {
          try {
            start.await(10, TimeUnit.SECONDS);
            runSequentially(name, branch, system, history);
          } catch (Exception e) {
            synchronized (failures) {
              failures.add(e);
            }
          }
        }, "property-" + name);
        threads.add(thread);
        thread.start();
      }
      for (Thread thread : threads) {
        thread.join(TimeUnit.MINUTES.toMillis(1));
      }
      failures.forEach(f -> violations.add("a branch failed: " + f));
      model.quiesce(system);
    } catch (Exception e) {
      violations.add("the prefix failed: " + e);
    }
    violations.addAll(model.finish(system));
    return check(model, program, history.operations(), violations, List.of(), 0);
  }

  private static <S, R> void runSequentially(String client, List<Command<S, R>> commands, R system,
      History<Command<S, R>, Object> history) throws Exception {
    for (Command<S, R> command : commands) {
      History<Command<S, R>, Object>.Call call = history.invoke(client, command.partition(), command);
      call.ok(command.run(system).toCompletableFuture().get(30, TimeUnit.SECONDS)); // else unknown
    }
  }

  private <S, R> Outcome check(Model<S, R> model, Program<S, R> program,
      List<Operation<Command<S, R>, Object>> ops, List<String> violations, List<String> trace, long steps) {
    Verdict<Command<S, R>, Object> verdict = null;
    if (program.parallel()) {
      verdict = checker.check(ops, spec(model));
      if (verdict.kind() == Verdict.Kind.ILLEGAL) {
        violations.add("not linearizable: " + verdict);
      }
    } else {
      postconditions(model, ops, violations);
    }
    return new Outcome(List.copyOf(violations), verdict, List.copyOf(ops), trace, steps);
  }

  private static <S, R> void postconditions(Model<S, R> model, List<Operation<Command<S, R>, Object>> ops,
      List<String> violations) {
    S state = model.initialState();
    for (Operation<Command<S, R>, Object> op : ops) {
      Optional<S> next = op.result().isOk() ? op.input().apply(state, op.result().value())
          : op.input().applyUnknown(state);
      if (next.isEmpty()) {
        violations.add("postcondition failed: " + op + " in model state " + state);
        return;
      }
      state = next.get();
    }
  }

  private static <S, R> SequentialSpec<S, Command<S, R>, Object> spec(Model<S, R> model) {
    return new SequentialSpec<>() {
      @Override
      public S initial() {
        return model.initialState();
      }

      @Override
      public Optional<S> step(S state, Command<S, R> input, Object output) {
        return input.apply(state, output);
      }

      @Override
      public Optional<S> stepUnknown(S state, Command<S, R> input) {
        return input.applyUnknown(state);
      }
    };
  }

  /** One client's commands on the simulated scheduler, each invoked after the previous responded. */
  private static final class Chain<S, R> {
    private final String client;
    private final List<Command<S, R>> commands;
    private final R system;
    private final SimulatedScheduler scheduler;
    private final History<Command<S, R>, Object> history;
    private final Runnable done;
    private int next;

    Chain(String client, List<Command<S, R>> commands, R system, SimulatedScheduler scheduler,
        History<Command<S, R>, Object> history, Runnable done) {
      this.client = client;
      this.commands = commands;
      this.system = system;
      this.scheduler = scheduler;
      this.history = history;
      this.done = done;
    }

    void start() {
      scheduler.execute(this::invokeNext, client + " starts");
    }

    private void invokeNext() {
      if (next == commands.size()) {
        done.run();
        return;
      }
      Command<S, R> command = commands.get(next++);
      History<Command<S, R>, Object>.Call call = history.invoke(client, command.partition(), command);
      CompletionStage<Object> result = command.run(system);
      result.whenComplete((value, error) -> {
        call.ok(error == null ? value : "threw " + error); // commands never throw: a throw is a bug
        scheduler.execute(this::invokeNext, client + " after " + command);
      });
    }
  }
}
