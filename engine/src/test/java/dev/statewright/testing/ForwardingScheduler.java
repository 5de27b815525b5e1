package dev.statewright.testing;

import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * A scheduler that forwards every call to a {@link ManualScheduler}: tests extend it and
 * override only the calls they record or change.
 */
public class ForwardingScheduler implements Scheduler {
  /** Where every call goes; run its tasks and timers as with any manual scheduler. */
  public final ManualScheduler inner;

  public ForwardingScheduler(ManualScheduler inner) {
    this.inner = inner;
  }

  @Override
  public long nanoTime() {
    return inner.nanoTime();
  }

  @Override
  public Instant now() {
    return inner.now();
  }

  @Override
  public RandomGenerator random() {
    return inner.random();
  }

  @Override
  public void execute(Runnable task) {
    inner.execute(task);
  }

  @Override
  public Cancellable schedule(Runnable task, Duration delay) {
    return inner.schedule(task, delay);
  }
}
