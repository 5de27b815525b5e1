package dev.statewright.harness.staging;

import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import dev.statewright.lease.Lease;
import dev.statewright.staging.Staged;
import dev.statewright.staging.StagingArea;
import dev.statewright.staging.StagingScope;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** The engine's staging as a {@link StagingUnderTest}. */
public final class RealStaging implements StagingUnderTest {
  private final Path root;
  private final Scheduler scheduler;
  private final StagingArea area;
  private final StagingScope scope;

  /**
   * A staging area at {@code root} with one scope, on a simulated scheduler's clock (virtual time
   * for its history and release times) whose tasks, the bounded opens of source files, run on real
   * threads: the stager waits for them; closing does not wait.
   *
   * @param root the staging root to open; created if missing
   * @throws IOException if the engine refuses or cannot prepare the root
   */
  public RealStaging(Path root) throws IOException {
    this.root = root;
    this.scheduler = realTasks(new SimulatedScheduler(root.hashCode(), Strategy.random()));
    this.area = StagingArea.builder(root).closeGrace(Duration.ZERO).scheduler(scheduler).open();
    this.scope = area.newScope("property");
  }

  private static Scheduler realTasks(SimulatedScheduler clock) {
    return new Scheduler() {
      @Override
      public long nanoTime() {
        return clock.nanoTime();
      }

      @Override
      public Instant now() {
        return clock.now();
      }

      @Override
      public void execute(Runnable task) {
        Scheduler.system().execute(task);
      }

      @Override
      public Cancellable schedule(Runnable task, Duration delay) {
        return clock.schedule(task, delay);
      }
    };
  }

  @Override
  public Optional<String> digestOf(URI source, Path origin) {
    return Optional.of(scope.stageDirectory(source, origin).digest());
  }

  @Override
  public void neighbourOpens() throws IOException {
    StagingArea.builder(root).scheduler(scheduler).open().close();
  }

  @Override
  public Handle stage(URI source, Path origin, String target) {
    Staged staged = scope.stageDirectory(source, origin);
    return new Handle() {
      @Override
      public Lease<Path> acquire(String holder) {
        return staged.acquire(holder);
      }

      @Override
      public void verify() {
        staged.verify();
      }

      @Override
      public int deletions() {
        return (int) staged.history().stream().filter(h -> h.endsWith(" deleted")).count();
      }
    };
  }

  @Override
  public void closeScope() {
    scope.close();
  }

  @Override
  public void close() {
    area.close();
  }

  @Override
  public String toString() {
    return "StagingScope";
  }
}
