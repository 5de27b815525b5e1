package dev.statewright.harness.demo;

import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.Change;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import dev.statewright.lease.Lease;
import dev.statewright.lifecycle.Transition;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Refresh in place (C13), in virtual time: a rotated token reaches the live client through the
 * reconfigurer (no rebuild, the same client, readers holding it see the new token, the listing
 * shows the new spec); a reconfigurer that throws makes the cache rebuild instead; a new URL
 * always rebuilds.
 */
final class ReconfigureScene {
  /** A repository spec: a new URL needs a new client, a new token does not. */
  record Repo(String url, String token) { }

  /** A connection whose token can be swapped in place; counts its closes. */
  static final class Connection {
    final String url;
    volatile String token;
    final AtomicInteger closes = new AtomicInteger();

    Connection(Repo spec) {
      this.url = spec.url();
      this.token = spec.token();
    }

    Repo reflects() {
      return new Repo(url, token);
    }
  }

  private final PrintStream out;
  private final Checks checks;
  private final SimulatedScheduler time = new SimulatedScheduler(13, Strategy.random());
  private final List<Connection> built = new ArrayList<>();
  private final List<EntryEvent> events = new ArrayList<>();
  private volatile boolean reconfigurerBroken;
  private ClientCache<String, Repo, Connection> cache;

  ReconfigureScene(PrintStream out, Checks checks) {
    this.out = out;
    this.checks = checks;
  }

  void run() {
    out.println();
    out.println("== Refresh in place: a rotated token reaches the live client without a rebuild (virtual time) ==");
    cache = ClientCache.<String, Repo, Connection>builder((key, spec) -> connect(spec))
        .name("repositories")
        .scheduler(time)
        .changePolicy((a, b) -> a.equals(b) ? Change.NONE
            : Objects.equals(a.url(), b.url()) ? Change.RECONFIGURE : Change.REBUILD)
        .reconfigure((connection, spec) -> {
          if (reconfigurerBroken) {
            throw new IllegalStateException("the token cannot be swapped on this connection");
          }
          connection.token = spec.token();
        })
        .closer(c -> c.closes.incrementAndGet())
        .listener(new Timeline())
        .build();
    try {
      inPlace();
      fallsBack();
    } finally {
      cache.close();
    }
  }

  private void inPlace() {
    Repo v1 = new Repo("https://charts.example", "token-1");
    Repo v2 = new Repo("https://charts.example", "token-2");
    cache.upsert("charts", v1, 1);
    settle();
    Lease<Connection> reader = cache.acquireAsync("charts").join(); // a long-lived reader
    Connection live = reader.get();
    CompletableFuture<Snapshot<String, Repo, Connection>> rotated = cache.upsert("charts", v2, 2);
    settle();
    Snapshot<String, Repo, Connection> s = snapshot();
    checks.check("C13", "the rotated token is applied in place: no rebuild, the listing shows the new spec",
        rotated.isDone() && built.size() == 1 && s.servedSpec().orElseThrow().equals(v2)
            && s.servedVersion().orElse(-1) == 2 && s.servedSpec().orElseThrow().equals(live.reflects())
            && s.state() == EntryState.CURRENT && events.contains(EntryEvent.RECONFIGURED),
        "served v" + s.servedVersion().orElse(-1) + ", " + built.size() + " build(s)");
    checks.check("C13", "a reader holding the client sees the new token; the client stays open",
        reader.get() == live && "token-2".equals(reader.get().token) && live.closes.get() == 0, "");
    reader.close();
  }

  private void fallsBack() {
    Connection live = leased();
    reconfigurerBroken = true;
    Repo v3 = new Repo("https://charts.example", "token-3");
    cache.upsert("charts", v3, 3);
    settle();
    Connection now = leased();
    checks.check("C13", "a reconfigurer that throws makes the cache rebuild: a new client of the new spec",
        now != live && now.reflects().equals(v3) && snapshot().servedSpec().orElseThrow().equals(v3)
            && live.closes.get() == 1 && events.contains(EntryEvent.RECONFIGURE_FAILED),
        built.size() + " builds");
    reconfigurerBroken = false;
    Repo moved = new Repo("https://mirror.example", "token-3");
    cache.upsert("charts", moved, 4);
    settle();
    checks.check("C13", "a new URL is not a token rotation: it rebuilds",
        leased() != now && leased().url.equals("https://mirror.example") && built.size() == 3, "");
  }

  private Connection connect(Repo spec) {
    Connection c = new Connection(spec);
    built.add(c);
    return c;
  }

  private Connection leased() {
    CompletableFuture<ClientLease<Connection>> lease = cache.acquireAsync("charts");
    settle();
    try (Lease<Connection> held = lease.join()) {
      return held.get();
    }
  }

  private Snapshot<String, Repo, Connection> snapshot() {
    return cache.snapshot("charts").orElseThrow();
  }

  private void settle() {
    time.run(Duration.ofSeconds(1), 100_000);
  }

  /** Prints transitions at their virtual time and keeps their events. */
  private final class Timeline implements CacheListener<String> {
    @Override
    public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
      events.add(t.event());
      out.printf("  t=%-9s %-10s %s%n", ExpiringCredentialsScene.minutes(time.nanoTime()), key, t);
    }
  }
}
