package dev.statewright.harness.demo;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.harness.sim.SimulatedScheduler;
import dev.statewright.harness.sim.Strategy;
import dev.statewright.lease.Lease;
import dev.statewright.lifecycle.Transition;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Expiring credentials (C12), in virtual time: a registry client holds a token valid for one hour;
 * the cache rebuilds it at 48 minutes ({@code refreshAhead} 0.8), keeps it through a failed
 * refresh (C7) until its hour is over, then serves it to no one, and readers wait for the
 * replacement.
 */
final class ExpiringCredentialsScene {
  private static final Duration TOKEN_LIFETIME = Duration.ofHours(1);

  /** A registry spec: only its URL. */
  record Registry(String url) { }

  /** A registry client with the token it was issued; counts its closes. */
  static final class TokenClient {
    final String token;
    final AtomicInteger closes = new AtomicInteger();

    TokenClient(String token) {
      this.token = token;
    }

    @Override
    public String toString() {
      return "client(token " + token + ")";
    }
  }

  private final PrintStream out;
  private final Checks checks;
  private final SimulatedScheduler time = new SimulatedScheduler(14, Strategy.random());
  private final AtomicBoolean tokenEndpointUp = new AtomicBoolean(true);
  private final AtomicInteger issued = new AtomicInteger();
  private ClientCache<String, Registry, TokenClient> cache;

  ExpiringCredentialsScene(PrintStream out, Checks checks) {
    this.out = out;
    this.checks = checks;
  }

  void run() {
    out.println();
    out.println("== Expiring credentials: tokens valid one hour, rebuilt ahead of their expiry (virtual time) ==");
    cache = ClientCache.<String, Registry, TokenClient>builder((key, spec) -> issue())
        .name("registries")
        .scheduler(time)
        .expiry((spec, client) -> TOKEN_LIFETIME)
        .refreshAhead(0.8)
        .backoff(Backoff.exponential(Duration.ofMinutes(1), Duration.ofMinutes(4)))
        .acquireTimeout(Duration.ofMinutes(30))
        .closer(client -> client.closes.incrementAndGet())
        .listener(new Timeline())
        .build();
    try {
      refreshAhead();
      failedRefreshThenExpiry();
    } finally {
      cache.close();
    }
  }

  private void refreshAhead() {
    cache.upsert("registry", new Registry("https://registry.example"), 1);
    advance(Duration.ofSeconds(1));
    TokenClient first = leased();
    advance(Duration.ofMinutes(47));
    boolean keptUntilRefresh = leased() == first && issued.get() == 1;
    advance(Duration.ofMinutes(1)); // 48 min: 0.8 of the hour
    TokenClient second = leased();
    checks.check("C12", "a token valid 1 h is rebuilt at 48 min: same spec and version, a new client",
        keptUntilRefresh && second != first && issued.get() == 2 && first.closes.get() == 1
            && snapshot().servedVersion().orElse(-1) == 1 && snapshot().state() == EntryState.CURRENT,
        first + " -> " + second);
  }

  private void failedRefreshThenExpiry() {
    TokenClient second = leased();
    tokenEndpointUp.set(false);
    advance(Duration.ofMinutes(52)); // its refresh at 96 min failed, retried with backoff
    checks.check("C7", "the token endpoint is down: the failed refresh keeps the client until it expires",
        leased() == second && snapshot().lastError().isPresent() && snapshot().nextRetryNanos().isPresent(),
        "lastError: " + snapshot().lastError().map(Throwable::getMessage).orElse("none"));
    advance(Duration.ofMinutes(9)); // 109 min: its hour ended at 108 min
    CompletableFuture<ClientLease<TokenClient>> waiting = cache.acquireAsync("registry");
    advance(Duration.ofSeconds(1));
    checks.check("C12", "past its hour the client is served to no one: the listing shows none, acquire waits",
        !waiting.isDone() && snapshot().servedSpec().isEmpty() && second.closes.get() == 1,
        snapshot().toString());
    tokenEndpointUp.set(true);
    advance(Duration.ofMinutes(5));
    boolean replaced = false;
    if (waiting.isDone() && !waiting.isCompletedExceptionally()) {
      try (Lease<TokenClient> lease = waiting.join()) {
        replaced = lease.get() != second && lease.get().closes.get() == 0;
      }
    }
    checks.check("C12", "once the endpoint is back, the waiting reader gets a client with a fresh token",
        replaced && snapshot().lastError().isEmpty(), snapshot().toString());
  }

  private TokenClient issue() throws IOException {
    if (!tokenEndpointUp.get()) {
      throw new IOException("token endpoint unavailable");
    }
    return new TokenClient("t" + issued.incrementAndGet());
  }

  private TokenClient leased() {
    CompletableFuture<ClientLease<TokenClient>> lease = cache.acquireAsync("registry");
    time.runReady(1_000);
    try (Lease<TokenClient> held = lease.join()) {
      return held.get();
    }
  }

  private Snapshot<String, Registry, TokenClient> snapshot() {
    return cache.snapshot("registry").orElseThrow();
  }

  /** Lets {@code by} of virtual time pass (the simulation alone only jumps from timer to timer). */
  private void advance(Duration by) {
    time.schedule(() -> { }, by, "the scene's clock");
    time.run(by, 100_000);
  }

  /** Prints transitions at their virtual time. */
  private final class Timeline implements CacheListener<String> {
    @Override
    public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
      out.printf("  t=%-9s %-10s %s%n", minutes(time.nanoTime()), key, t);
    }
  }

  static String minutes(long nanos) {
    Duration d = Duration.ofNanos(nanos);
    return d.toMinutes() + "m" + String.format("%02d", d.toSecondsPart()) + "s";
  }
}
