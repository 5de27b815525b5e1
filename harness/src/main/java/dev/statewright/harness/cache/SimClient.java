package dev.statewright.harness.cache;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client built by {@link SimFactory}: knows the key and version it reflects (built for, or
 * reconfigured to in place), and counts the leases the property holds on it and the times it was
 * closed, so monitors can tell a client closed while leased (C6) or closed twice. A renewing
 * factory gives it a lifetime: it must not be handed out from {@code expiresAt} on (C12).
 */
public final class SimClient implements AutoCloseable {
  final String key;
  /** The version of the spec it reflects; a reconfigure changes it in place (C13). */
  volatile long version;
  /** How long it may be served after its build; null if it never expires. */
  volatile Duration lifetime;
  /** When its lifetime ends (scheduler time); Long.MAX_VALUE if never. */
  volatile long expiresAt = Long.MAX_VALUE;
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
   * The version of the spec it reflects: built from, or reconfigured to.
   *
   * @return the spec's version
   */
  public long version() {
    return version;
  }

  @Override
  public void close() {
    closes.incrementAndGet();
    monitor.closed(this);
  }

  /**
   * Its lifetime, for the cache's {@code expiry(lifetime)}.
   *
   * @return how long it may be served after its build; null if it never expires
   */
  public Duration lifetime() {
    return lifetime;
  }

  @Override
  public String toString() {
    return "client#" + serial + "(" + key + " v" + version + ")";
  }
}
