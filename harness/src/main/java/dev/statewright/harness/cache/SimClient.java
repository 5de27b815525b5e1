package dev.statewright.harness.cache;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client built by {@link SimFactory}: knows the key and version it was built for, and counts
 * the leases the property holds on it and the times it was closed, so monitors can tell a client
 * closed while leased (C6) or closed twice.
 */
public final class SimClient implements AutoCloseable {
  final String key;
  final long version;
  final int serial;
  /** The number of builds started before this one's: a client built before a change has a lower one. */
  final long startedAs;
  final AtomicInteger leases = new AtomicInteger();
  final AtomicInteger closes = new AtomicInteger();
  private final CacheMonitor monitor;

  SimClient(String key, long version, int serial, long startedAs, CacheMonitor monitor) {
    this.key = key;
    this.version = version;
    this.serial = serial;
    this.startedAs = startedAs;
    this.monitor = monitor;
  }

  /**
   * The version of the spec it was built from.
   *
   * @return the spec's version, as given to the factory
   */
  public long version() {
    return version;
  }

  @Override
  public void close() {
    closes.incrementAndGet();
    monitor.closed(this);
  }

  @Override
  public String toString() {
    return "client#" + serial + "(" + key + " v" + version + ")";
  }
}
