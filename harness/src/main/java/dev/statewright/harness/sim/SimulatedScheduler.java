package dev.statewright.harness.sim;

import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * A deterministic {@link Scheduler}: one thread (the caller of {@link #run}), virtual time that
 * jumps to the next timer when nothing is ready, and a seeded choice of the next ready task. The
 * real engine runs on it unchanged; the same seed gives the same schedule and the same result.
 *
 * <p>Not thread-safe: everything, including what the engine submits, runs on one thread, one
 * step at a time, while a caller waits in {@link #run}. Tasks submitted from other threads are a
 * test bug.
 *
 * <p>Blocking calls fail at once: a task that blocks ({@code ClientCache.acquire},
 * {@code CompletableFuture.join} or {@code get}, closing a staging scope that waits for its
 * leases) would wait for work only this thread can run. Instead the step throws
 * {@link BlockingCallException}, naming the call and where it was made, and saying to use the
 * async form ({@code acquireAsync}, {@code thenCompose}).
 */
public final class SimulatedScheduler implements Scheduler {
  /*
   * Overview: `ready` holds submitted tasks; `timers` holds delayed ones by due time, then by
   * submission order. run() picks a ready task by the strategy, runs it, and when none is ready
   * moves virtual time to the earliest timer and makes every timer due by then ready.
   */
  private static final long EPOCH_NANOS = Duration.ofDays(20_000).toNanos();

  private final long seed;
  private final Strategy strategy;
  private final SplittableRandom random;
  private final List<Task> ready = new ArrayList<>();
  private final PriorityQueue<Timer> timers = new PriorityQueue<>();
  private final List<String> trace = new ArrayList<>();
  private final List<Integer> changePoints = new ArrayList<>();
  private Runnable afterEachStep = () -> { };
  private Consumer<Throwable> uncaught;
  private volatile Thread stepping; // the thread that ran the latest step, for watchdogs
  private long now;
  /** Added to {@link #nanoTime()}'s reading only: timers and the trace run on {@code now}. */
  private long clockOrigin;
  private long submitted;
  private long steps;
  private int demotions;

  /**
   * A scheduler whose every choice follows from {@code seed}.
   *
   * @param seed the seed of every choice
   * @param strategy how the next ready task is picked
   */
  public SimulatedScheduler(long seed, Strategy strategy) {
    this.seed = seed;
    this.strategy = Objects.requireNonNull(strategy, "strategy");
    this.random = new SplittableRandom(seed);
    if (strategy.isPct()) {
      for (int i = 1; i < strategy.depth(); i++) {
        changePoints.add(random.nextInt(200));
      }
    }
  }

  private final class Task {
    final long id = submitted++;
    final Runnable body;
    final String label;
    long priority;

    Task(Runnable body, String label) {
      this.body = body;
      this.label = label;
      this.priority = strategy.isPct() ? 1_000 + random.nextInt(1_000_000) : 0;
    }
  }

  private final class Timer implements Comparable<Timer>, Cancellable {
    final long due;
    final long order = submitted++;
    final Runnable body;
    final String label;
    boolean cancelled;

    Timer(long due, Runnable body, String label) {
      this.due = due;
      this.body = body;
      this.label = label;
    }

    @Override
    public void cancel() {
      cancelled = true;
    }

    @Override
    public int compareTo(Timer other) {
      return due != other.due ? Long.compare(due, other.due) : Long.compare(order, other.order);
    }
  }

  @Override
  public long nanoTime() {
    return clockOrigin + now; // wraps past Long.MAX_VALUE as System.nanoTime may
  }

  /**
   * Starts {@link #nanoTime()}'s readings at {@code origin} instead of 0, as System.nanoTime's
   * arbitrary origin may: near {@code Long.MAX_VALUE} the readings wrap during a run, which code
   * that compares times other than by their difference gets wrong. Virtual time, timers and the
   * trace are unchanged.
   *
   * @param origin the reading at virtual time 0
   */
  public void clockOrigin(long origin) {
    this.clockOrigin = origin;
  }

  @Override
  public Instant now() {
    return Instant.ofEpochSecond(0, EPOCH_NANOS + now);
  }

  @Override
  public RandomGenerator random() {
    return random;
  }

  @Override
  public void execute(Runnable task) {
    execute(task, "task");
  }

  /**
   * Submits a task with a label the trace shows.
   *
   * @param task the task
   * @param label its name in the trace
   */
  public void execute(Runnable task, String label) {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(label, "label");
    ready.add(new Task(task, label));
  }

  @Override
  public Cancellable schedule(Runnable task, Duration delay) {
    return schedule(task, delay, "timer");
  }

  /**
   * Schedules a labelled task after {@code delay} of virtual time.
   *
   * @param task the task
   * @param delay virtual time until it is ready
   * @param label its name in the trace
   * @return a handle that cancels it
   */
  public Cancellable schedule(Runnable task, Duration delay, String label) {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(delay, "delay");
    Objects.requireNonNull(label, "label");
    Timer timer = new Timer(now + Math.max(0, delay.toNanos()), task, label);
    timers.add(timer);
    return timer;
  }

  /**
   * From now on a task that throws is handed to {@code handler} and the run goes on, as a thread
   * pool's worker would report it and take the next task; by default the throwable propagates
   * out of {@link #run}. A blocking call is never handed over: it always fails the run.
   *
   * @param handler what to do with a throwable a task let escape
   */
  public void onUncaught(Consumer<Throwable> handler) {
    this.uncaught = handler;
  }

  /**
   * Called after every step, for monitors that check invariants between steps.
   *
   * @param check the check, run on the scheduler's thread
   */
  public void afterEachStep(Runnable check) {
    this.afterEachStep = Objects.requireNonNull(check, "check");
  }
  /**
   * The thread that runs this scheduler's steps (steps run on a simulation thread of their own,
   * not on the thread that called {@link #run}), or null before the first step. A watchdog that
   * must find a step that never returns looks at this thread.
   *
   * @return the thread of the latest step, or null
   */
  public Thread steppingThread() {
    return stepping;
  }


  /**
   * Runs until nothing is ready and no timer is due before {@code until} (virtual time from now),
   * or {@code maxSteps} steps have run.
   *
   * @param until virtual time to run for at most
   * @param maxSteps steps to run at most
   * @return whether it stopped because it was idle (false: the step budget ran out)
   */
  public boolean run(Duration until, long maxSteps) {
    Objects.requireNonNull(until, "until");
    return SimulationThread.call(() -> runHere(until, maxSteps));
  }

  private boolean runHere(Duration until, long maxSteps) {
    long deadline = now + until.toNanos();
    for (long budget = maxSteps; budget > 0; budget--) {
      if (ready.isEmpty() && !advanceTo(deadline)) {
        return true;
      }
      step();
    }
    return ready.isEmpty();
  }

  /**
   * Runs ready tasks (no time passes) until none is left.
   *
   * @param maxSteps steps to run at most
   */
  public void runReady(long maxSteps) {
    SimulationThread.call(() -> {
      for (long budget = maxSteps; budget > 0 && !ready.isEmpty(); budget--) {
        step();
      }
      return null;
    });
  }

  private void step() {
    stepping = Thread.currentThread();
    Task task = ready.remove(pick());
    steps++;
    trace.add(String.format("%6d t=%-12s %s #%d", steps, Duration.ofNanos(now), task.label, task.id));
    runTask(task);
    Optional<BlockingCallException> blocked = blockingCall(task, null);
    if (blocked.isPresent()) {
      throw blocked.get(); // the task swallowed the failed call; the deadlock it meant is still ours
    }
    afterEachStep.run();
  }

  private void runTask(Task task) {
    try {
      task.body.run();
    } catch (RuntimeException | Error e) {
      Optional<BlockingCallException> blocked =
          e instanceof RuntimeException r ? blockingCall(task, r) : Optional.empty();
      if (blocked.isPresent()) {
        throw blocked.get();
      }
      if (uncaught == null) {
        throw e;
      }
      uncaught.accept(e);
    }
  }

  private Optional<BlockingCallException> blockingCall(Task task, RuntimeException thrown) {
    String call = SimulationThread.takeBlocked();
    return Optional.ofNullable(call).map(c -> new BlockingCallException("blocking call " + c
        .replaceFirst("\n", " in step " + steps + " (" + task.label + ") on the simulated"
            + " scheduler, made at\n")
        + "\nThe simulated scheduler runs every task on one thread, so this call would wait for"
        + " work only that thread can run: a deadlock. Use the async form instead (acquireAsync"
        + " for acquire; compose a future with thenCompose or whenComplete rather than join or"
        + " get).", thrown));
  }

  private int pick() {
    if (!strategy.isPct()) {
      return random.nextInt(ready.size());
    }
    int best = 0;
    for (int i = 1; i < ready.size(); i++) {
      if (ready.get(i).priority > ready.get(best).priority) {
        best = i;
      }
    }
    if (changePoints.contains((int) steps)) {
      ready.get(best).priority = demotions++ - strategy.depth(); // below every fresh priority
    }
    return best;
  }

  private boolean advanceTo(long deadline) {
    Timer next;
    while ((next = timers.peek()) != null && next.cancelled) {
      timers.poll();
    }
    if (next == null || next.due > deadline) {
      return false;
    }
    now = Math.max(now, next.due);
    while ((next = timers.peek()) != null && next.due <= now) {
      timers.poll();
      if (!next.cancelled) {
        ready.add(new Task(next.body, next.label));
      }
    }
    return true;
  }

  /**
   * Every step so far: its number, virtual time, label and task id.
   *
   * @return the trace, one line a step
   */
  public List<String> trace() {
    return List.copyOf(trace);
  }

  /**
   * Whether tasks are ready to run at the current virtual time: what happened at this instant has
   * not been reacted to in full yet.
   *
   * @return true while a task is ready
   */
  public boolean hasReadyTasks() {
    return !ready.isEmpty();
  }

  /**
   * Steps run so far.
   *
   * @return the number of steps
   */
  public long steps() {
    return steps;
  }

  /**
   * The seed this scheduler's choices follow from.
   *
   * @return the seed
   */
  public long seed() {
    return seed;
  }

  /**
   * The strategy.
   *
   * @return how the next ready task is picked
   */
  public Strategy strategy() {
    return strategy;
  }

  @Override
  public String toString() {
    return "SimulatedScheduler[seed=" + seed + ", " + strategy + ", t=" + Duration.ofNanos(now)
        + ", " + steps + " steps]";
  }
}
