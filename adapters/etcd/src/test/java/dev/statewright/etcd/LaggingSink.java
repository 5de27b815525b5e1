package dev.statewright.etcd;

import dev.statewright.event.EventSink;
import dev.statewright.event.Versioned;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Delivers every call {@code lag} late, in order: the source of a replica that lags. Made
 * {@linkplain #progressAhead progress-ahead}, it also reports progress at each event's version at
 * once, before the event arrives: a source whose progress runs ahead of its events.
 */
final class LaggingSink extends ForwardingSink {
  private final ScheduledExecutorService delayer;
  private final Duration lag;
  private final boolean progressAhead;

  private LaggingSink(EventSink<String, String> sink, ScheduledExecutorService delayer,
      Duration lag, boolean progressAhead) {
    super(sink);
    this.delayer = delayer;
    this.lag = lag;
    this.progressAhead = progressAhead;
  }

  /** Everything {@code lag} late. */
  static LaggingSink lagging(EventSink<String, String> sink, ScheduledExecutorService delayer,
      Duration lag) {
    return new LaggingSink(sink, delayer, lag, false);
  }

  /** Events {@code lag} late, progress at once (a broken source). */
  static LaggingSink progressAhead(EventSink<String, String> sink,
      ScheduledExecutorService delayer, Duration lag) {
    return new LaggingSink(sink, delayer, lag, true);
  }

  private void later(Runnable call) {
    delayer.schedule(call, lag.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void upsert(String key, String spec, long version) {
    later(() -> sink.upsert(key, spec, version));
    if (progressAhead) {
      sink.progress(version);
    }
  }

  @Override
  public void delete(String key, long version) {
    later(() -> sink.delete(key, version));
    if (progressAhead) {
      sink.progress(version);
    }
  }

  @Override
  public void resync(Map<String, Versioned<String>> all, long asOfVersion) {
    later(() -> sink.resync(all, asOfVersion));
  }

  @Override
  public void progress(long version) {
    if (progressAhead) {
      sink.progress(version);
    } else {
      later(() -> sink.progress(version));
    }
  }
}
