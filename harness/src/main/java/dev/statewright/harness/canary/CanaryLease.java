package dev.statewright.harness.canary;

import dev.statewright.cache.ClientLease;
import dev.statewright.harness.cache.SimClient;
import dev.statewright.lease.Lease;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

/** A canary's {@link ClientLease}: a plain lease, the stage its cache tells, a way to report. */
final class CanaryLease implements ClientLease<SimClient> {
  private final Lease<SimClient> lease;
  private final CompletableFuture<Void> superseded;
  private final BooleanSupplier report;
  private final long version;

  CanaryLease(Lease<SimClient> lease, CompletableFuture<Void> superseded, BooleanSupplier report) {
    this.lease = lease;
    this.version = lease.get().version();
    this.superseded = superseded;
    this.report = report;
  }

  @Override
  public SimClient get() {
    return lease.get();
  }

  @Override
  public String holder() {
    return lease.holder();
  }

  @Override
  public void close() {
    lease.close();
  }

  @Override
  public long version() {
    return version;
  }

  @Override
  public boolean isCurrent() {
    return !superseded.isDone();
  }

  @Override
  public CompletionStage<Void> superseded() {
    return superseded.minimalCompletionStage();
  }

  @Override
  public boolean reportFailure(Throwable cause) {
    return report.getAsBoolean();
  }
}
