package dev.statewright.harness.demo;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientUnavailableException;
import dev.statewright.cache.Snapshot;
import dev.statewright.harness.demo.RepositoryDemo.RepoClient;
import dev.statewright.harness.demo.RepositoryDemo.RepoSpec;
import dev.statewright.lease.Lease;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** Readers on their own threads: leases never closed under them, an honest listing, no going back. */
final class Readers {
  private final ClientCache<String, RepoSpec, RepoClient> cache;
  private final Checks checks;
  private final Consumer<String> report;
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong reads = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final List<String> violations = new ArrayList<>(); // guarded by itself

  Readers(ClientCache<String, RepoSpec, RepoClient> cache, Checks checks, Consumer<String> report,
      int count) {
    this.cache = cache;
    this.checks = checks;
    this.report = report;
    for (int i = 0; i < count; i++) {
      threads.add(new Thread(this::read, "reader-" + i));
    }
  }

  void start() {
    threads.forEach(Thread::start);
  }

  private void read() {
    Map<String, Long> lastServed = new ConcurrentHashMap<>();
    while (running.get()) {
      for (String key : List.of("bitnami", "jetstack")) {
        readOnce(key, lastServed);
      }
    }
  }

  private void readOnce(String key, Map<String, Long> lastServed) {
    Optional<Snapshot<String, RepoSpec, RepoClient>> before = cache.snapshot(key);
    try (Lease<RepoClient> lease = cache.acquire(key)) {
      RepoClient client = lease.get();
      Optional<Snapshot<String, RepoSpec, RepoClient>> after = cache.snapshot(key);
      if (client.closes.get() != 0) {
        violation("C6 " + client + " was closed while leased");
      }
      if (before.isPresent() && after.isPresent() && before.get().servedVersion().isPresent()
          && before.get().servedVersion().equals(after.get().servedVersion())
          && !before.get().servedSpec().orElseThrow().equals(client.spec)) {
        violation("C5 list showed " + before.get().servedSpec() + " while serving " + client);
      }
      if (after.isPresent() && after.get().servedVersion().isPresent()) {
        long served = after.get().servedVersion().getAsLong();
        Long last = lastServed.put(key, served);
        if (last != null && served < last) {
          violation("C2 " + key + " went back from v" + last + " to v" + served);
        }
      }
      reads.incrementAndGet();
    } catch (NoSuchElementException | ClientUnavailableException expected) {
      refused.incrementAndGet(); // deleted, or stale past the bound while a build fails
    }
  }

  private void violation(String what) {
    synchronized (violations) {
      violations.add(what);
    }
  }

  void stopAndCheck() throws InterruptedException {
    running.set(false);
    for (Thread thread : threads) {
      thread.join();
    }
    report.accept("readers: " + reads.get() + " reads on 3 threads, " + refused.get() + " refused");
    synchronized (violations) {
      checks.check("C6", "no reader ever held a closed client", violations.stream()
          .noneMatch(v -> v.startsWith("C6")), first("C6"));
      checks.check("C5", "every read's client matched the listing around it", violations.stream()
          .noneMatch(v -> v.startsWith("C5")), first("C5"));
      checks.check("C2", "no reader saw a served version go back", violations.stream()
          .noneMatch(v -> v.startsWith("C2")), first("C2"));
    }
    checks.check("--", "the readers really read", reads.get() > 0, "");
  }

  private String first(String prefix) {
    return violations.stream().filter(v -> v.startsWith(prefix)).findFirst().orElse("");
  }
}
