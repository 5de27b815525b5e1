package dev.statewright.harness.demo;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.Snapshot;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Feature 1, superseded leases (C10): a watch holds its lease for minutes; when the repository's
 * URL changes, {@code superseded()} tells it once, it acquires again, and the old client is
 * released as soon as the watch lets go of it.
 */
final class SupersededLeaseScene {
  private static final long WAIT_SECONDS = 15;

  private final PrintStream out;
  private final Checks checks;

  SupersededLeaseScene(PrintStream out, Checks checks) {
    this.out = out;
    this.checks = checks;
  }

  void run() throws Exception {
    out.println();
    out.println("== A long-lived watch is told when its client is replaced (C10) ==");
    try (ClientCache<String, String, Conn> cache = ClientCache.<String, String, Conn>builder(
            (key, url) -> new Conn(url))
        .name("watched").leaseWarning(Duration.ofMinutes(5)).build()) {
      cache.upsert("bitnami", "https://charts.bitnami.example", 1).get(WAIT_SECONDS, TimeUnit.SECONDS);
      ClientLease<Conn> watch = cache.acquire("bitnami");
      AtomicInteger told = new AtomicInteger();
      watch.superseded().thenRun(told::incrementAndGet);
      out.println("  a watch holds " + watch.get() + " (version " + watch.version() + ")");

      cache.upsert("bitnami", "https://mirror.bitnami.example", 2).get(WAIT_SECONDS, TimeUnit.SECONDS);
      watch.superseded().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
      Snapshot<String, String, Conn> pinned = cache.snapshot("bitnami").orElseThrow();
      out.println("  the URL changed; the watch was told, and still pins the old client: "
          + pinned.retiredClientsInUse() + " retired client in use");
      checks.check("C10", "the watch is told once, and its lease is no longer current",
          told.get() == 1 && !watch.isCurrent() && pinned.retiredClientsInUse() == 1,
          "told " + told.get() + "x");

      Conn old = watch.get();
      watch.close();
      try (ClientLease<Conn> again = cache.acquire("bitnami")) {
        Snapshot<String, String, Conn> after = cache.snapshot("bitnami").orElseThrow();
        out.println("  it acquires again: " + again.get() + " (version " + again.version() + ")");
        checks.check("C10", "re-acquired on the new URL; the old client released when the watch let go",
            again.get().url.equals("https://mirror.bitnami.example") && again.isCurrent()
                && old.closes.get() == 1 && after.retiredClientsInUse() == 0
                && after.openLeases() == 1,
            old + " closed " + old.closes.get() + "x, " + after.openLeases() + " open lease");
      }
      cache.upsert("bitnami", "https://charts.bitnami.example", 3).get(WAIT_SECONDS, TimeUnit.SECONDS);
      checks.check("C10", "told exactly once, however many replacements follow", told.get() == 1,
          "told " + told.get() + "x");
    }
  }
}
