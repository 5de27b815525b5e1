package dev.statewright.etcd;

import dev.statewright.cache.ClientCache;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** The README's etcd sample, compiled and run by {@link EtcdEventSourceTest}. */
final class ReadmeSample {
  private ReadmeSample() { }

  /** A spec: the repository's URL and the etcd key of its token. */
  record RepoSpec(String url, String tokenKey) {
    static RepoSpec parse(String key, byte[] value) {
      String[] fields = new String(value, StandardCharsets.UTF_8).split(" ");
      return new RepoSpec(fields[0], fields[1]);
    }
  }

  /** A client. */
  record RepoClient(String name, RepoSpec spec) {
    static RepoClient connect(String name, RepoSpec spec) {
      return new RepoClient(name, spec);
    }
  }

  static ClientCache<String, RepoSpec, RepoClient> repositories(Client etcd) {
    // sample:start
    // etcd: a jetcd Client you own, e.g. Client.builder().endpoints("http://etcd-0:2379").build()
    ClientCache<String, RepoSpec, RepoClient> repos = ClientCache.builder(RepoClient::connect)
        .dependsOn(spec -> Set.of(spec.tokenKey()))                // e.g. "/creds/bitnami"
        .source(EtcdEventSource.builder(etcd, "/repos/", RepoSpec::parse)
            .dependencies("/creds/")                               // a token rotation rebuilds
            .build())
        .build();
    // sample:end
    return repos;
  }
}
