package dev.statewright.harness.demo;

import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.Wave;
import dev.statewright.lifecycle.Transition;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A rotated pull secret that twelve repositories read, rebuilt as a wave (C14): two canaries
 * first, then four per 200 ms. A broken secret stops the wave at its canaries, and the other ten
 * keep their clients and say why; the fixed secret rolls out at the rate.
 */
final class WaveDemo {
  private static final String SECRET = "pull-secret";
  private static final int REPOSITORIES = 12;
  private static final int CANARIES = 2;
  private static final int PER_WINDOW = 4;
  private static final Duration WINDOW = Duration.ofMillis(200);
  private static final Duration WAIT = Duration.ofSeconds(15);

  /** A repository client, built with the secret's value at the time. */
  record Client(String repository, String token) { }

  private final PrintStream out;
  private final Checks checks;
  private final Scheduler scheduler = Scheduler.system();
  private final Map<String, String> secrets = new ConcurrentHashMap<>(Map.of(SECRET, "token-1"));
  /** When each DEPENDENCY_CHANGED happened, in scheduler nanoseconds. */
  private final List<Long> marks = Collections.synchronizedList(new ArrayList<>());

  WaveDemo(PrintStream out, Checks checks) {
    this.out = out;
    this.checks = checks;
  }

  void run() throws Exception {
    out.println();
    out.println("== A rotated secret that " + REPOSITORIES + " repositories read, rebuilt as a wave ==");
    try (ClientCache<String, String, Client> cache = ClientCache.<String, String, Client>builder(
            (repository, secretName) -> build(repository, secretName))
        .name("wave-demo")
        .scheduler(scheduler)
        .dependsOn(Set::of)
        .dependencyWave(Wave.canaryFirst(CANARIES).thenAtMost(PER_WINDOW, WINDOW))
        .listener(new CacheListener<>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            if (t.event() == EntryEvent.DEPENDENCY_CHANGED) {
              marks.add(scheduler.nanoTime());
            }
          }
        })
        .build()) {
      List<CompletableFuture<?>> first = new ArrayList<>();
      for (int i = 0; i < REPOSITORIES; i++) {
        first.add(cache.upsert("repo-" + i, SECRET, 1));
      }
      CompletableFuture.allOf(first.toArray(CompletableFuture<?>[]::new)).get(15, TimeUnit.SECONDS);
      brokenSecret(cache);
      fixedSecret(cache);
    }
  }

  private Client build(String repository, String secretName) throws IOException {
    String token = secrets.get(secretName);
    if (token.startsWith("broken")) {
      throw new IOException("401 Unauthorized from the registry for " + repository);
    }
    return new Client(repository, token);
  }

  private void brokenSecret(ClientCache<String, String, Client> cache) throws Exception {
    out.println("  1. the secret is rotated to a token the registry refuses");
    secrets.put(SECRET, "broken-2");
    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    Throwable error = null;
    try {
      wave.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      error = e.getCause();
    }
    List<Snapshot<String, String, Client>> held = cache.list().stream()
        .filter(s -> s.lastError().isPresent() && s.state() == EntryState.CURRENT).toList();
    Throwable canaryError = error;
    int marked = marks.size(); // the first failure stops the wave, even between two canaries
    checks.check("C14", "a failed canary stops the wave: no more than the canaries were marked",
        error != null && marked >= 1 && marked <= CANARIES, marked + " of " + REPOSITORIES
            + " marked; the change failed with " + error);
    checks.check("C14", "the rest keep their clients and record the canary's error",
        held.size() == REPOSITORIES - marked
            && held.stream().allMatch(s -> s.lastError().orElseThrow() == canaryError)
            && held.stream().allMatch(s -> served(cache, s.key()).token().equals("token-1")),
        held.size() + " serve token-1 and say: " + (error == null ? "nothing" : error.getMessage()));
  }

  private void fixedSecret(ClientCache<String, String, Client> cache) throws Exception {
    out.println("  2. the secret is fixed: canaries first, then " + PER_WINDOW + " per " + WINDOW);
    secrets.put(SECRET, "token-3");
    marks.clear();
    long start = System.nanoTime();
    cache.dependencyChanged(SECRET).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    long millis = (System.nanoTime() - start) / 1_000_000;
    List<Long> rest;
    synchronized (marks) {
      rest = List.copyOf(marks.subList(CANARIES, marks.size()));
    }
    int busiest = 0;
    for (long t : rest) {
      busiest = Math.max(busiest, (int) rest.stream().filter(u -> u >= t && u < t + WINDOW.toNanos()).count());
    }
    checks.check("C14", "after the canaries, no more than " + PER_WINDOW + " rebuilds per " + WINDOW,
        busiest <= PER_WINDOW && marks.size() == REPOSITORIES,
        "busiest window " + busiest + ", " + marks.size() + " marked in " + millis + " ms");
    boolean allNew = cache.list().stream().allMatch(s -> s.lastError().isEmpty()
        && served(cache, s.key()).token().equals("token-3"));
    checks.check("C14", "every repository serves the fixed secret, errors cleared", allNew, "");
  }

  private static Client served(ClientCache<String, String, Client> cache, String key) {
    try (var lease = cache.acquireAsync(key, 0).join()) {
      return lease.get();
    }
  }
}
