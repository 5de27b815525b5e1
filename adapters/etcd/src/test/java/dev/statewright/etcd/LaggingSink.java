package dev.statewright.etcd;

import dev.statewright.event.EventSink;
import dev.statewright.event.Versioned;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Delivers every call {@code lag} late, in order: the source of a replica that lags. */
final class LaggingSink extends ForwardingSink {
  private final ScheduledExecutorService delayer;
  private final Duration lag;

  LaggingSink(EventSink<String, String> sink, ScheduledExecutorService delayer, Duration lag) {
    super(sink);
    this.delayer = delayer;
    this.lag = lag;
  }

  private void later(Runnable call) {
    delayer.schedule(call, lag.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void upsert(String key, String spec, long version) {
    later(() -> sink.upsert(key, spec, version));
  }

  @Override
  public void delete(String key, long version) {
    later(() -> sink.delete(key, version));
  }

  @Override
  public void resync(Map<String, Versioned<String>> all, long asOfVersion) {
    later(() -> sink.resync(all, asOfVersion));
  }

  @Override
  public void progress(long version) {
    later(() -> sink.progress(version));
  }
}
