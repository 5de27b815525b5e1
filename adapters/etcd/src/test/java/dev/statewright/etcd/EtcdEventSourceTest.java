package dev.statewright.etcd;

import static dev.statewright.etcd.EtcdCluster.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryState;
import dev.statewright.event.Versioned;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The etcd source against a real three-member etcd cluster: replicas converge on the final state
 * through member kills, restarts and compaction, served versions never go back, and no deleted key
 * comes back. Random choices print their seed; {@code -Dstatewright.seed=N} replays them.
 */
class EtcdEventSourceTest {
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  private static final int KEYS = 50;

  private static EtcdCluster cluster;
  private static Client writer;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = EtcdCluster.start();
    writer = cluster.client();
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (writer != null) {
      writer.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void threeReplicasConvergeOnAThousandChangesThroughAMemberKill() throws Exception {
    SplittableRandom random = seeded("threeReplicasConverge");
    String prefix = "/converge/";
    List<Replica> replicas = List.of(
        new Replica("node-1", cluster.clientPreferring(0), prefix),
        new Replica("node-2", cluster.clientPreferring(1), prefix),
        new Replica("node-3", cluster.clientPreferring(2), prefix));
    try {
      Map<String, Versioned<String>> expected = new HashMap<>();
      long started = System.nanoTime();
      boolean[] killed = {false};
      write(prefix, random, expected, 1_000, 8, change -> {
        if (change >= 400 && !killed[0]) {
          killed[0] = true;
          Map<String, Versioned<String>> beforeKill = replicas.get(0).served();
          cluster.kill(0);
          assertKeepsServing(replicas.get(0), beforeKill);
        }
      });
      long written = System.nanoTime();
      for (Replica replica : replicas) {
        assertThat(replica.awaitServing(expected, CONVERGE))
            .as("%s serves the final spec of every key at its final revision", replica.name)
            .isTrue();
      }
      long converged = System.nanoTime();
      cluster.restart(0);
      Replica rejoined = new Replica("node-4", cluster.clientOf(0), prefix);
      try {
        assertThat(rejoined.awaitServing(expected, CONVERGE))
            .as("a replica on the restarted member alone converges").isTrue();
      } finally {
        rejoined.close();
      }
      long afterRestart = System.nanoTime();
      for (Replica replica : replicas) {
        assertNoViolations(replica);
        assertDeletedKeysStayDeleted(replica, prefix, expected);
      }
      System.out.printf("etcd convergence: 1000 changes over %d keys written in %d ms with member"
              + " 1 killed at change 400; all 3 replicas converged %d ms after the last write; a"
              + " replica on the restarted member converged %d ms after its restart%n",
          KEYS, millis(started, written), millis(written, converged),
          millis(converged, afterRestart));
      for (Replica replica : replicas) {
        System.out.printf("etcd coalescing: %s built %d clients for %d distinct specs delivered"
                + " (%.2f builds per spec)%n", replica.name, replica.builds.get(),
            replica.distinctSpecsDelivered(),
            replica.builds.get() / (double) replica.distinctSpecsDelivered());
      }
    } finally {
      replicas.forEach(Replica::close);
    }
  }

  @Test
  void compactionPastADisconnectedReplicaMakesItRelistWithoutResurrectingKeys() throws Exception {
    SplittableRandom random = seeded("compactionPastADisconnectedReplica");
    String prefix = "/compaction/";
    Map<String, Versioned<String>> expected = new HashMap<>();
    write(prefix, random, expected, 100, 8, change -> { });
    Replica pinned = new Replica("pinned-to-3", cluster.clientOf(2), prefix);
    try {
      assertThat(pinned.awaitServing(expected, CONVERGE)).isTrue();
      cluster.kill(2);
      for (String key : new ArrayList<>(expected.keySet()).subList(0, expected.size() / 2)) {
        delete(prefix, key, expected);
      }
      write(prefix, random, expected, 200, 8, change -> { });
      long revision = retrying(() -> writer.getKVClient().get(bytes(prefix)))
          .get(30, TimeUnit.SECONDS).getHeader().getRevision();
      retrying(() -> writer.getKVClient().compact(revision)).get(30, TimeUnit.SECONDS);
      long restarted = System.nanoTime();
      cluster.restart(2);
      assertThat(pinned.awaitServing(expected, CONVERGE))
          .as("after compaction the pinned replica relists and converges").isTrue();
      System.out.printf("etcd compaction: the replica pinned to the killed member converged %d ms"
          + " after its restart, past a compaction at revision %d%n",
          millis(restarted, System.nanoTime()), revision);
      assertNoViolations(pinned);
      assertDeletedKeysStayDeleted(pinned, prefix, expected);
    } finally {
      pinned.close();
    }
  }

  @Test
  void aValueThatDoesNotParseMarksItsKeyAndTheSourceGoesOn() throws Exception {
    String prefix = "/parse/";
    long good = put(prefix + "repo", "https://good.example");
    BuildsSeen builds = new BuildsSeen();
    try (Client client = cluster.client();
        ClientCache<String, String, String> cache = ClientCache
            .<String, String, String>builder((key, spec) -> key + "@" + spec)
            .listener(builds)
            .source(EtcdEventSource.builder(client, prefix, EtcdEventSourceTest::parseUrl).build())
            .build()) {
      builds.built("repo", good).get(30, TimeUnit.SECONDS);
      assertThat(cache.acquireAsync("repo", good).get(30, TimeUnit.SECONDS).get())
          .isEqualTo("repo@https://good.example");
      long broken = put(prefix + "repo", "not a url");
      long other = put(prefix + "other", "https://other.example");
      builds.built("other", other).get(30, TimeUnit.SECONDS);
      assertThat(cache.acquireAsync("other", other).get(30, TimeUnit.SECONDS).get())
          .as("the source went on after the bad value").isEqualTo("other@https://other.example");
      var repo = cache.snapshot("repo").orElseThrow();
      assertThat(repo.servedSpec()).contains("https://good.example");
      assertThat(repo.lastError()).get().asString()
          .contains("/parse/repo").contains("revision " + broken).contains("not a url");
    }
  }

  @Test
  void aChangedCredentialRebuildsTheReposThatUseIt() throws Exception {
    String prefix = "/repos/";
    long version = put(prefix + "bitnami", "https://charts.example|/creds/bitnami");
    put("/creds/bitnami", "token-1");
    List<String> built = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> rotated = new CompletableFuture<>();
    BuildsSeen builds = new BuildsSeen();
    try (Client client = cluster.client();
        ClientCache<String, String, String> cache = ClientCache
            .<String, String, String>builder((key, spec) -> {
              String token = get(spec.split("\\|")[1]);
              built.add(token);
              if (token.equals("token-2")) {
                rotated.complete(null);
              }
              return key + " with a token of " + token.length() + " characters";
            })
            .dependsOn(spec -> Set.of(spec.split("\\|")[1]))
            .listener(builds)
            .source(EtcdEventSource.builder(client, prefix, EtcdEventSourceTest::utf8)
                .dependencies("/creds/").build())
            .build()) {
      builds.built("bitnami", version).get(30, TimeUnit.SECONDS);
      put("/creds/bitnami", "token-2");
      rotated.get(30, TimeUnit.SECONDS);
      assertThat(built).containsExactly("token-1", "token-2");
      assertThat(cache.snapshot("bitnami").orElseThrow().servedVersion())
          .as("a dependency rebuild keeps the spec's version").hasValue(version);
    }
  }

  /** Canary: a source that loses events (a watch gap with no relist) must fail to converge. */
  @Test
  void theConvergenceCheckCatchesASourceThatLosesEvents() throws Exception {
    SplittableRandom random = seeded("lossyCanary");
    String prefix = "/canary-lossy/";
    AtomicInteger calls = new AtomicInteger();
    Replica lossy = new Replica("lossy", cluster.client(), prefix, sink -> new ForwardingSink(sink) {
      @Override
      public void upsert(String key, String spec, long version) {
        if (calls.incrementAndGet() % 5 != 0) {
          sink.upsert(key, spec, version);
        }
      }

      @Override
      public void delete(String key, long version) {
        if (calls.incrementAndGet() % 5 != 0) {
          sink.delete(key, version);
        }
      }
    });
    try {
      Map<String, Versioned<String>> expected = new HashMap<>();
      write(prefix, random, expected, 200, 8, change -> { });
      assertThat(lossy.awaitServing(expected, Duration.ofSeconds(5)))
          .as("a replica fed by a lossy source never serves the final state").isFalse();
    } finally {
      lossy.close();
    }
  }

  /** Canary: a source that replays an old revision after a delete must trip the replica check. */
  @Test
  void theMonotonicityCheckCatchesASourceThatReplaysOldRevisions() throws Exception {
    SplittableRandom random = seeded("replayCanary");
    String prefix = "/canary-replay/";
    Replica replaying = new Replica("replaying", cluster.client(), prefix,
        sink -> new ForwardingSink(sink) {
          @Override
          public void delete(String key, long version) {
            sink.delete(key, version);
            sink.upsert(key, "resurrected", version - 1);
          }
        });
    try {
      Map<String, Versioned<String>> expected = new HashMap<>();
      write(prefix, random, expected, 200, 8, change -> { });
      assertThat(replaying.awaitServing(expected, CONVERGE))
          .as("the cache itself refuses the replayed revisions").isTrue();
      assertThat(replaying.violations).as("the replica saw the source go back")
          .anyMatch(v -> v.contains("the source delivered"));
    } finally {
      replaying.close();
    }
  }

  @Test
  void theReadmeShowsTheCompiledSample() throws Exception {
    assertThat(Files.readString(Path.of("../../README.md")))
        .as("README.md shows ReadmeSample's code verbatim").contains(sample(
            Path.of("src/test/java/dev/statewright/etcd/ReadmeSample.java")));
    try (Client etcd = cluster.client()) {
      ReadmeSample.repositories(etcd).close(); // it builds, starts and stops
    }
  }

  /** The lines between the sample markers of {@code source}, without their common indent. */
  static String sample(Path source) throws Exception {
    List<String> lines = Files.readAllLines(source);
    List<String> sample = lines.subList(lines.indexOf("    // sample:start") + 1,
        lines.indexOf("    // sample:end"));
    return String.join("\n", sample.stream().map(line -> line.substring(4)).toList());
  }

  private static String utf8(String key, byte[] value) {
    return new String(value, StandardCharsets.UTF_8);
  }

  private static String parseUrl(String key, byte[] value) {
    String url = utf8(key, value);
    if (!url.startsWith("https://")) {
      throw new IllegalArgumentException("expected an https:// URL, got '" + url + "'");
    }
    return url;
  }

  /** A change etcd applied: a put of {@code url}, or a delete when it is null. */
  private record Applied(String key, String url, long revision) { }

  /**
   * {@code count} random changes, up to {@code inFlight} at a time: mostly puts, and deletes of
   * keys live before the batch and not otherwise touched in it. The expected state applies each
   * batch in revision order, as etcd did. {@code beforeBatch} runs, with the number of the
   * next change, when all earlier changes are done.
   */
  private static void write(String prefix, SplittableRandom random,
      Map<String, Versioned<String>> expected, int count, int inFlight,
      java.util.function.IntConsumer beforeBatch) throws Exception {
    int change = 0;
    while (change < count) {
      beforeBatch.accept(change);
      List<CompletableFuture<Applied>> batch = new ArrayList<>();
      Set<String> touched = new java.util.HashSet<>();
      Set<String> deleting = new java.util.HashSet<>();
      while (batch.size() < inFlight && change < count) {
        String key = "repo-" + random.nextInt(KEYS);
        if (deleting.contains(key)) {
          continue;
        }
        if (expected.containsKey(key) && !touched.contains(key) && random.nextInt(10) == 0) {
          deleting.add(key);
          batch.add(retrying(() -> writer.getKVClient().delete(bytes(prefix + key)))
              .thenApply(r -> new Applied(key, null, r.getHeader().getRevision())));
        } else {
          String url = "https://" + key + ".example/v" + change;
          batch.add(retrying(() -> writer.getKVClient().put(bytes(prefix + key), bytes(url)))
              .thenApply(r -> new Applied(key, url, r.getHeader().getRevision())));
        }
        touched.add(key);
        change++;
      }
      List<Applied> applied = new ArrayList<>();
      for (CompletableFuture<Applied> op : batch) {
        applied.add(op.get(30, TimeUnit.SECONDS));
      }
      applied.sort(java.util.Comparator.comparingLong(Applied::revision));
      for (Applied op : applied) {
        if (op.url() == null) {
          expected.remove(op.key());
        } else {
          expected.put(op.key(), Versioned.of(op.url(), op.revision()));
        }
      }
    }
  }

  private static void delete(String prefix, String key, Map<String, Versioned<String>> expected)
      throws Exception {
    retrying(() -> writer.getKVClient().delete(bytes(prefix + key))).get(30, TimeUnit.SECONDS);
    expected.remove(key);
  }

  private static long put(String key, String value) throws Exception {
    return retrying(() -> writer.getKVClient().put(bytes(key), bytes(value)))
        .get(30, TimeUnit.SECONDS).getHeader().getRevision();
  }

  /**
   * The request, sent again while etcd answers UNAVAILABLE or UNKNOWN: right after a member dies,
   * requests to it fail with "channel closed", and requests elsewhere time out until a leader is
   * elected. (A put retried after an ambiguous timeout may
   * land twice; the expected state takes the revision of the one that answered, the newer.)
   */
  private static <T> CompletableFuture<T> retrying(
      java.util.function.Supplier<CompletableFuture<T>> request) {
    CompletableFuture<T> result = request.get();
    for (int attempt = 1; attempt < 20; attempt++) {
      result = result.exceptionallyCompose(error -> unavailable(error)
          ? request.get() : CompletableFuture.failedFuture(error));
    }
    return result;
  }

  private static boolean unavailable(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof io.grpc.StatusRuntimeException status
          && Set.of(io.grpc.Status.Code.UNAVAILABLE, io.grpc.Status.Code.UNKNOWN)
              .contains(status.getStatus().getCode())) {
        return true;
      }
    }
    return false;
  }

  private static String get(String key) throws Exception {
    return utf8(key, writer.getKVClient().get(bytes(key)).get(30, TimeUnit.SECONDS).getKvs().get(0)
        .getValue().getBytes());
  }

  /** Every key served before is still served, as new or newer, unless a delete reached it. */
  private static void assertKeepsServing(Replica replica, Map<String, Versioned<String>> before) {
    Map<String, Versioned<String>> now = replica.served();
    before.forEach((key, served) -> {
      if (!replica.deletedAfter(key, served.version())) {
        assertThat(now.get(key))
            .as("%s still serves %s right after its member died", replica.name, key)
            .isNotNull()
            .matches(v -> v.version() >= served.version());
      }
    });
  }

  private static void assertNoViolations(Replica replica) {
    assertThat(replica.violations).as("%s's monotonicity and resurrection checks", replica.name)
        .isEmpty();
  }

  private static void assertDeletedKeysStayDeleted(Replica replica, String prefix,
      Map<String, Versioned<String>> expected) {
    for (int i = 0; i < KEYS; i++) {
      String key = "repo-" + i;
      if (!expected.containsKey(key)) {
        replica.cache.snapshot(key).ifPresent(snapshot -> assertThat(snapshot.state())
            .as("%s%s was deleted", prefix, key).isEqualTo(EntryState.REMOVED));
      }
    }
  }

  private static SplittableRandom seeded(String test) {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println(test + ": seed=" + seed + " (replay with -Dstatewright.seed=" + seed + ")");
    return new SplittableRandom(seed);
  }

  private static long millis(long fromNanos, long toNanos) {
    return TimeUnit.NANOSECONDS.toMillis(toNanos - fromNanos);
  }
}
