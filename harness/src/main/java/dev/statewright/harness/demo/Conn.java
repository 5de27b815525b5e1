package dev.statewright.harness.demo;

import java.util.concurrent.atomic.AtomicInteger;

/** A connection the lifecycle scenes' factories build: the URL it was built for, and a serial. */
final class Conn implements AutoCloseable {
  private static final AtomicInteger SERIALS = new AtomicInteger();

  final String url;
  final int serial = SERIALS.incrementAndGet();
  final AtomicInteger closes = new AtomicInteger();

  Conn(String url) {
    this.url = url;
  }

  @Override
  public void close() {
    closes.incrementAndGet();
  }

  @Override
  public String toString() {
    return "conn#" + serial + "(" + url + ")";
  }
}
