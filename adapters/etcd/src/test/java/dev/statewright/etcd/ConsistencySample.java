package dev.statewright.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;

import dev.statewright.cache.ClientCache;
import dev.statewright.etcd.ReadmeSample.RepoClient;
import dev.statewright.etcd.ReadmeSample.RepoSpec;
import dev.statewright.lease.Lease;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.util.function.Consumer;

/** The README's consistent-read sample, compiled and run by the consistent-reads test. */
final class ConsistencySample {
  private ConsistencySample() { }

  static void readAfterAWrite(Client etcd, ClientCache<String, RepoSpec, RepoClient> repos,
      Consumer<RepoClient> use) throws Exception {
    // sample:start
    // a user changes a repository's URL; the put's revision is what later reads must reflect
    long revision = etcd.getKVClient()
        .put(ByteSequence.from("/repos/bitnami", UTF_8),
            ByteSequence.from("https://mirror.example/bitnami /creds/bitnami", UTF_8))
        .get().getHeader().getRevision();
    // any replica: waits until its watch has delivered everything up to that revision
    try (Lease<RepoClient> lease = repos.acquireAsOf("bitnami", revision).get(5, SECONDS)) {
      use.accept(lease.get());                              // built from the new URL
    }
    // no revision at hand: a quorum read of etcd's current revision, then the same wait
    try (Lease<RepoClient> lease = repos.acquireConsistent("bitnami").get(5, SECONDS)) {
      use.accept(lease.get());
    }
    // sample:end
  }
}
