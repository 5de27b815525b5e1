package dev.statewright.cache;

import static dev.statewright.cache.TestClients.versionOf;
import static dev.statewright.cache.TestClients.versioned;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.event.DirectoryEventSource;
import dev.statewright.lease.Lease;
import dev.statewright.testing.Workers;
import dev.statewright.time.Scheduler;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The field failure: a repository's URL changed, and {@code repo list} printed the new URL next
 * to a status produced by the old client, for up to a 30 s TTL; deleted repositories were still
 * served; a change inside the referenced Secret was never noticed.
 */
class RepositoryUrlChangeRegressionTest {

  @Test
  void afterAnUpsertCompletesEveryReaderSeesTheNewUrlInTheListAndTheClient() throws Exception {
    Factory factory = new Factory();
    factory.latencyNanos = TimeUnit.MICROSECONDS.toNanos(300);
    AtomicLong completed = new AtomicLong(-1);
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicLong reads = new AtomicLong();
    Queue<String> misses = new ConcurrentLinkedQueue<>();
    try (ClientCache<String, Repo, Client> cache = ClientCache.builder(factory).build()) {
      cache.upsert("bitnami", versioned(0), 0).get(10, TimeUnit.SECONDS);
      Workers.run(4, worker -> {
        if (worker == 0) {
          for (long v = 1; v <= 60; v++) {
            cache.upsert("bitnami", versioned(v), v).get(10, TimeUnit.SECONDS);
            completed.set(v);
          }
          writing.set(false);
          return;
        }
        while (writing.get()) {
          long floor = completed.get();
          Snapshot<String, Repo, Client> listed = cache.list().get(0);
          try (Lease<Client> lease = cache.acquire("bitnami")) {
            long listedVersion = listed.servedVersion().orElseThrow();
            if (!listed.servedSpec().orElseThrow().equals(versioned(listedVersion))) {
              misses.add("list() paired v" + listedVersion + " with " + listed.servedSpec());
            }
            if (listedVersion < floor || versionOf(lease.get()) < floor) {
              misses.add("after v" + floor + " completed: list showed v" + listedVersion
                  + ", acquire gave " + lease.get());
            }
          }
          reads.incrementAndGet();
        }
      });
    }
    assertThat(misses).isEmpty();
    assertThat(reads.get()).as("readers actually read").isPositive();
  }

  @Test
  void aDeletedRepositoryIsNotServedAndReAddingItServesTheNewUrl() throws Exception {
    Factory factory = new Factory();
    try (ClientCache<String, Repo, Client> cache = ClientCache.builder(factory).build()) {
      cache.upsert("bitnami", new Repo("https://old.example"), 1).get(10, TimeUnit.SECONDS);
      Lease<Client> inFlightRead = cache.acquire("bitnami");

      cache.delete("bitnami", 2).get(10, TimeUnit.SECONDS);
      assertThat(cache.list()).isEmpty();
      cache.upsert("bitnami", new Repo("https://new.example"), 3).get(10, TimeUnit.SECONDS);

      try (Lease<Client> lease = cache.acquire("bitnami")) {
        assertThat(lease.get().builtFrom.url()).isEqualTo("https://new.example");
      }
      assertThat(cache.list()).singleElement()
          .satisfies(s -> assertThat(s.servedSpec().orElseThrow().url()).isEqualTo("https://new.example"));
      assertThat(inFlightRead.get().closes).as("the old client outlives its reader's lease").hasValue(0);
      inFlightRead.close();
      assertThat(factory.built.get(0).closes).hasValue(1);
    }
  }

  /** A spec file: {@code url=} and {@code token=} naming a file beside it. */
  record RepoFile(String url, String tokenFile) { }

  @Test
  void aChangeInsideTheReferencedTokenFileRebuildsTheClient(@TempDir Path root) throws Exception {
    Path dir = Files.createDirectory(root.resolve("repositories"));
    Files.writeString(dir.resolve("bitnami.token"), "token-one");
    Files.writeString(dir.resolve("bitnami.properties"), "url=https://charts.example\ntoken=bitnami.token\n");
    BlockingQueue<String> built = new LinkedBlockingQueue<>();
    ClientFactory<String, RepoFile, String> factory = (key, spec) -> {
      String client = spec.url() + " with " + Files.readString(dir.resolve(spec.tokenFile()));
      built.add(client);
      return client;
    };
    DirectoryEventSource<RepoFile> files = DirectoryEventSource.of(dir, ".properties",
        (file, bytes) -> {
          Properties p = new Properties();
          p.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
          return new RepoFile(p.getProperty("url"), p.getProperty("token"));
        }, Duration.ofSeconds(1), Scheduler.system());
    try (ClientCache<String, RepoFile, String> cache = ClientCache.builder(factory)
        .dependsOn(spec -> Set.of(spec.tokenFile())).source(files).build()) {
      assertThat(built.poll(10, TimeUnit.SECONDS)).isEqualTo("https://charts.example with token-one");

      Path next = Files.writeString(root.resolve("next-token"), "token-two");
      Files.move(next, dir.resolve("bitnami.token"), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING); // as a Secret volume swaps its files

      assertThat(built.poll(10, TimeUnit.SECONDS)).isEqualTo("https://charts.example with token-two");
      try (Lease<String> lease = cache.acquire("bitnami")) {
        assertThat(lease.get()).isEqualTo("https://charts.example with token-two");
      }
      assertThat(List.copyOf(built)).isEmpty();
    }
  }
}
