package dev.statewright.harness.demo;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.Snapshot;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

/**
 * Feature 2, failures reported by users of the client (C11): a client that starts answering 401
 * is reported through its lease; strict readers never get it again, the key rebuilds without a
 * spec event, and a late report from a reader still holding the old client changes nothing.
 */
final class InvalidationScene {
  private static final long WAIT_SECONDS = 15;

  private final PrintStream out;
  private final Checks checks;

  InvalidationScene(PrintStream out, Checks checks) {
    this.out = out;
    this.checks = checks;
  }

  void run() throws Exception {
    out.println();
    out.println("== A client answering 401 is reported, replaced, never served to strict readers (C11) ==");
    try (ClientCache<String, String, Conn> cache = ClientCache.<String, String, Conn>builder(
            (key, url) -> new Conn(url))
        .name("reported").build()) { // strict() is the default
      cache.upsert("registry", "https://registry.example", 1).get(WAIT_SECONDS, TimeUnit.SECONDS);
      ClientLease<Conn> failing = cache.acquire("registry");
      ClientLease<Conn> lateReader = cache.acquire("registry");
      IOException unauthorized = new IOException("401 Unauthorized: token expired");

      boolean marked = failing.reportFailure(unauthorized);
      out.println("  " + failing.get() + " answered 401; reported: " + marked);
      try (ClientLease<Conn> next = cache.acquireAsync("registry").get(WAIT_SECONDS, TimeUnit.SECONDS)) {
        Snapshot<String, String, Conn> s = cache.snapshot("registry").orElseThrow();
        out.println("  a strict reader gets " + next.get() + "; generation " + s.generation()
            + ", still version " + next.version());
        checks.check("C11", "a strict reader never gets the reported client: a rebuild of the same version",
            marked && next.get() != failing.get() && next.version() == 1 && s.generation() == 2,
            "");
      }
      failing.superseded().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
      checks.check("C11", "the report was recorded as the key's last error until the rebuild served",
          !failing.isCurrent() && cache.snapshot("registry").orElseThrow().lastError().isEmpty(),
          "lastError cleared by the successful rebuild");

      long generation = cache.snapshot("registry").orElseThrow().generation();
      boolean lateMarked = lateReader.reportFailure(unauthorized);
      checks.check("C11", "a late report against the replaced client changes nothing",
          !lateMarked && cache.snapshot("registry").orElseThrow().generation() == generation, "");
      failing.close();
      lateReader.close();
    }
  }
}
