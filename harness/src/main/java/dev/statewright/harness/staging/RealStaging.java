package dev.statewright.harness.staging;

import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import dev.statewright.lease.Lease;
import dev.statewright.staging.Staged;
import dev.statewright.staging.StagingArea;
import dev.statewright.staging.StagingScope;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/** The engine's staging as a {@link StagingUnderTest}. */
public final class RealStaging implements StagingUnderTest {
  private final StagingArea area;
  private final StagingScope scope;

  /**
   * A staging area at {@code root} with one scope, on a simulated scheduler (virtual time for its
   * history and release times: the engine's staging runs on it unchanged); closing does not wait.
   */
  public RealStaging(Path root) throws IOException {
    this.area = StagingArea.builder(root).closeGrace(Duration.ZERO)
        .scheduler(new SimulatedScheduler(root.hashCode(), Strategy.random())).open();
    this.scope = area.newScope("property");
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
