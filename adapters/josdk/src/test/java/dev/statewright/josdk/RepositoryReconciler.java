package dev.statewright.josdk;

import dev.statewright.lease.Lease;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.util.List;
import java.util.Set;

/** The README's operator: compiled here, run by {@link ClientPerResourceOperatorTest}. */
// sample:start
@ControllerConfiguration
public class RepositoryReconciler
    implements Reconciler<PackageRepository>, Cleaner<PackageRepository> {
  final ClientPerResource<PackageRepository, PackageRepository.Spec, RepoClient> repos =
      ClientPerResource.builder(PackageRepository.class, PackageRepository::getSpec,
              RepoClient::connect)                      // keys are "namespace/name"
          .secrets(spec -> Set.of(spec.tokenSecret))    // a token rotation rebuilds
          .closer(RepoClient::close)
          .build();

  @Override
  public List<EventSource<?, PackageRepository>> prepareEventSources(
      EventSourceContext<PackageRepository> context) {
    return repos.eventSources(context);                 // Secrets, as a JOSDK event source
  }

  @Override
  public UpdateControl<PackageRepository> reconcile(PackageRepository repo,
      Context<PackageRepository> context) {
    try (Lease<RepoClient> client = repos.acquire(repo)) {  // this generation's client
      repo.setStatus(new PackageRepository.Status(client.get().index()));
    }
    return UpdateControl.patchStatus(repo);
  }

  @Override
  public DeleteControl cleanup(PackageRepository repo, Context<PackageRepository> context) {
    return repos.cleanup(repo);                         // closed after its last lease
  }
}
// sample:end
