package dev.statewright.kubernetes;

import dev.statewright.cache.ClientCache;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Set;

/** The README's Kubernetes sample, compiled and run by {@link InformerEventSourceTest}. */
final class ReadmeSample {
  private ReadmeSample() { }

  /** A client. */
  record RepoClient(String key, PackageRepository.Spec spec) {
    static RepoClient connect(String key, PackageRepository.Spec spec) {
      return new RepoClient(key, spec);
    }
  }

  static ClientCache<String, PackageRepository.Spec, RepoClient> repositories(
      KubernetesClient kubernetes) {
    // sample:start
    ClientCache<String, PackageRepository.Spec, RepoClient> repos = ClientCache
        .builder(RepoClient::connect)                           // keys are "namespace/name"
        .dependsOn(spec -> Set.of("team-a/" + spec.tokenSecret))  // the Secret it reads
        .source(InformerEventSource
            .builder(kubernetes.resources(PackageRepository.class).inNamespace("team-a"),
                PackageRepository::getSpec)                     // versions: metadata.generation
            .secrets(kubernetes.secrets().inNamespace("team-a"))  // Secret changes rebuild
            .build())
        .build();
    // sample:end
    return repos;
  }
}
