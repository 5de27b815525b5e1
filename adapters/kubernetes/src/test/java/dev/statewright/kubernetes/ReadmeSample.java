package dev.statewright.kubernetes;

import dev.statewright.cache.ClientCache;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
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

  /** The README's status sample: the reporter, wired into a cache; both to be closed. */
  static StatusReporter reportStatus(KubernetesClient kubernetes) {
    // status:start
    StatusReporter status = StatusReporter.builder(kubernetes.genericKubernetesResources(
            ResourceDefinitionContext.fromResourceType(PackageRepository.class)))
        .build();
    ClientCache<String, PackageRepository.Spec, RepoClient> repos = ClientCache
        .builder(RepoClient::connect)
        .listener(status.listener())           // a transition asks for a report
        .source(InformerEventSource
            .builder(kubernetes.resources(PackageRepository.class).inNamespace("team-a"),
                PackageRepository::getSpec)
            .build())
        .build();
    status.start(repos);                       // and every 30 s: what changed is written
    // status:end
    repos.close();
    return status;
  }
}
