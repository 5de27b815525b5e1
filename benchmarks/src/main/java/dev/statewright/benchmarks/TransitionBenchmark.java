package dev.statewright.benchmarks;

import dev.statewright.lifecycle.Lifecycle;
import dev.statewright.lifecycle.StateMachine;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.squirrelframework.foundation.fsm.StateMachineBuilderFactory;
import org.squirrelframework.foundation.fsm.UntypedStateMachine;
import org.squirrelframework.foundation.fsm.UntypedStateMachineBuilder;
import org.squirrelframework.foundation.fsm.annotation.StateMachineParameters;
import org.squirrelframework.foundation.fsm.impl.AbstractUntypedStateMachine;

/**
 * Question 5: what does a kernel transition cost? One transition per operation around the same
 * three-state cycle (STALE -> REBUILDING -> CURRENT -> STALE).
 *
 * <p>Baseline, same class and run: a raw {@link AtomicReference#compareAndSet} transition. Target:
 * {@code kernelFire}, a machine nobody listens to (so it allocates no Transition), at most 1.5x its
 * cost. Peers: stateless4j 2.6.0 and squirrel-foundation
 * 0.3.10 on the same machine, for reference.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar TransitionBenchmark -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class TransitionBenchmark {
  enum S { STALE, REBUILDING, CURRENT }

  enum E { START, SUCCEED, CHANGE }

  private static final Lifecycle<S, E> CYCLE = Lifecycle.builder("bench", S.class, E.class)
      .initial(S.STALE)
      .permit(S.STALE, E.START, S.REBUILDING)
      .permit(S.REBUILDING, E.SUCCEED, S.CURRENT)
      .permit(S.CURRENT, E.CHANGE, S.STALE)
      .build();
  private static final E[] NEXT = {E.START, E.SUCCEED, E.CHANGE};
  private static final S[] AFTER = {S.REBUILDING, S.CURRENT, S.STALE};

  private final AtomicReference<S> raw = new AtomicReference<>(S.STALE);
  private StateMachine<S, E> kernel;
  private com.github.oxo42.stateless4j.StateMachine<S, E> stateless;
  private UntypedStateMachine squirrel;
  private int step;

  /** The squirrel machine, as its builder requires: a public class with a public constructor. */
  @StateMachineParameters(stateType = S.class, eventType = E.class, contextType = Object.class)
  public static class SquirrelCycle extends AbstractUntypedStateMachine { }

  @Setup
  public void setUp() {
    kernel = CYCLE.newMachine("bench"); // nobody listens, as nobody listens to the raw CAS
    var config = new com.github.oxo42.stateless4j.StateMachineConfig<S, E>();
    config.configure(S.STALE).permit(E.START, S.REBUILDING);
    config.configure(S.REBUILDING).permit(E.SUCCEED, S.CURRENT);
    config.configure(S.CURRENT).permit(E.CHANGE, S.STALE);
    stateless = new com.github.oxo42.stateless4j.StateMachine<>(S.STALE, config);
    UntypedStateMachineBuilder builder = StateMachineBuilderFactory.create(SquirrelCycle.class);
    builder.externalTransition().from(S.STALE).to(S.REBUILDING).on(E.START);
    builder.externalTransition().from(S.REBUILDING).to(S.CURRENT).on(E.SUCCEED);
    builder.externalTransition().from(S.CURRENT).to(S.STALE).on(E.CHANGE);
    squirrel = builder.newStateMachine(S.STALE);
    squirrel.start();
  }

  @Benchmark
  public boolean atomicReferenceCas() {
    int i = step;
    step = i == 2 ? 0 : i + 1;
    S from = i == 0 ? S.STALE : AFTER[i - 1];
    return raw.compareAndSet(from, AFTER[i]);
  }

  @Benchmark
  public S kernelFire() {
    int i = step;
    step = i == 2 ? 0 : i + 1;
    return kernel.fire(NEXT[i]);
  }

  @Benchmark
  public S stateless4jFire() {
    int i = step;
    step = i == 2 ? 0 : i + 1;
    stateless.fire(NEXT[i]);
    return stateless.getState();
  }

  @Benchmark
  public Object squirrelFire() {
    int i = step;
    step = i == 2 ? 0 : i + 1;
    squirrel.fire(NEXT[i]);
    return squirrel.getCurrentState();
  }
}
