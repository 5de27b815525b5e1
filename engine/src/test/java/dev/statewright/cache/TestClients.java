package dev.statewright.cache;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiFunction;

/** Test doubles: a repository spec, a client that remembers what it was built from, a factory. */
final class TestClients {
  private TestClients() { }

  /** A repository spec; the token is a reference, never printed. */
  record Repo(String url, String tokenRef, String description) {
    Repo(String url) {
      this(url, null, "");
    }

    Repo withDescription(String text) {
      return new Repo(url, tokenRef, text);
    }

    @Override
    public String toString() {
      return "Repo[" + url + ", token=" + (tokenRef == null ? "none" : "<redacted>") + "]";
    }
  }

  /** A spec whose URL carries its version, so a client can tell which version it serves. */
  static Repo versioned(long version) {
    return new Repo("https://charts.example/" + version);
  }

  /** The version a client built from {@link #versioned} serves. */
  static long versionOf(Client client) {
    String url = client.builtFrom.url();
    return Long.parseLong(url.substring(url.lastIndexOf('/') + 1));
  }

  /** A client built from one spec; counts its closes. */
  static final class Client implements AutoCloseable {
    final String key;
    final Repo builtFrom;
    final int serial;
    final AtomicInteger closes = new AtomicInteger();

    Client(String key, Repo builtFrom, int serial) {
      this.key = key;
      this.builtFrom = builtFrom;
      this.serial = serial;
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }

    @Override
    public String toString() {
      return "Client#" + serial + "[" + key + " " + builtFrom.url() + "]";
    }
  }

  /** Builds clients and records every call; fails while {@code failure} says so. */
  static final class Factory implements ClientFactory<String, Repo, Client> {
    final List<Client> built = Collections.synchronizedList(new ArrayList<>());
    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final Map<String, AtomicInteger> inFlightByKey = new ConcurrentHashMap<>();
    final AtomicInteger maxInFlightPerKey = new AtomicInteger();
    volatile BiFunction<String, Repo, Exception> failure = (key, spec) -> null;
    /** Simulated build latency: a real client connects somewhere. */
    volatile long latencyNanos;
    /** Blocks builds while closed; open by default. */
    volatile CountDownLatch gate = new CountDownLatch(0);
    private final AtomicInteger serials = new AtomicInteger();

    @Override
    public Client build(String key, Repo spec) throws Exception {
      int now = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(now, Math::max);
      AtomicInteger perKey = inFlightByKey.computeIfAbsent(key, k -> new AtomicInteger());
      maxInFlightPerKey.accumulateAndGet(perKey.incrementAndGet(), Math::max);
      try {
        gate.await();
        if (latencyNanos > 0) {
          LockSupport.parkNanos(latencyNanos);
        }
        calls.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        Exception problem = failure.apply(key, spec);
        if (problem != null) {
          throw problem;
        }
        Client client = new Client(key, spec, serials.incrementAndGet());
        built.add(client);
        return client;
      } finally {
        perKey.decrementAndGet();
        inFlight.decrementAndGet();
      }
    }

    int calls(String key) {
      AtomicInteger n = calls.get(key);
      return n == null ? 0 : n.get();
    }
  }
}
