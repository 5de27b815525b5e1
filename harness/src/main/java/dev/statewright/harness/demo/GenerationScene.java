package dev.statewright.harness.demo;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.Snapshot;
import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Feature 6, visibility (C15): a rotated Secret rebuilds the repository without a new version;
 * {@code list()} shows it in the generation, which never goes back.
 */
final class GenerationScene {
  private static final long WAIT_SECONDS = 15;

  private final PrintStream out;
  private final Checks checks;

  GenerationScene(PrintStream out, Checks checks) {
    this.out = out;
    this.checks = checks;
  }

  void run() throws Exception {
    out.println();
    out.println("== list() shows a rebuild that keeps the version: generation (C15) ==");
    try (ClientCache<String, String, Conn> cache = ClientCache.<String, String, Conn>builder(
            (key, url) -> new Conn(url))
        .name("listed").dependsOn(url -> Set.of("secret/pull-token")).build()) {
      cache.upsert("jetstack", "https://charts.jetstack.example", 7).get(WAIT_SECONDS, TimeUnit.SECONDS);
      Snapshot<String, String, Conn> before = listed(cache);
      cache.dependencyChanged("secret/pull-token").get(WAIT_SECONDS, TimeUnit.SECONDS);
      Snapshot<String, String, Conn> after = listed(cache);
      out.println("  before the token rotation: v" + before.servedVersion().orElseThrow()
          + " generation " + before.generation() + "; after: v" + after.servedVersion().orElseThrow()
          + " generation " + after.generation());
      checks.check("C15", "the rotation kept the version and shows as one more generation",
          before.generation() == 1 && after.generation() == 2
              && after.servedVersion().equals(before.servedVersion()), "");
      cache.upsert("jetstack", "https://charts.jetstack.example", 8).get(WAIT_SECONDS, TimeUnit.SECONDS);
      checks.check("C15", "a metadata-only spec (same URL) keeps the client and the generation",
          listed(cache).generation() == 2, "generation " + listed(cache).generation());
    }
  }

  private static Snapshot<String, String, Conn> listed(ClientCache<String, String, Conn> cache) {
    return cache.list().stream().filter(s -> s.key().equals("jetstack")).findFirst().orElseThrow();
  }
}
