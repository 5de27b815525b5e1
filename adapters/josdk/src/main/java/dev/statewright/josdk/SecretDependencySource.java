package dev.statewright.josdk;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * JOSDK's informer event source for Secrets, which first tells the cache when a Secret's data
 * changes (a metadata-only update is no change) and then lets JOSDK reconcile the resources that
 * read it. Because the cache hears first, the reconcile that follows finds the clients already
 * stale and waits for their rebuild.
 *
 * @param <P> the primary resource type
 */
final class SecretDependencySource<P extends HasMetadata> extends InformerEventSource<Secret, P> {
  private final Consumer<Secret> changed;

  SecretDependencySource(InformerEventSourceConfiguration<Secret> configuration,
      EventSourceContext<P> context, Consumer<Secret> changed) {
    super(configuration, context);
    this.changed = changed;
  }

  @Override
  public void onAdd(Secret secret) {
    changed.accept(secret);
    super.onAdd(secret);
  }

  @Override
  public void onUpdate(Secret before, Secret after) {
    if (!sameData(before, after)) {
      changed.accept(after);
    }
    super.onUpdate(before, after);
  }

  @Override
  public void onDelete(Secret secret, boolean finalStateUnknown) {
    changed.accept(secret);
    super.onDelete(secret, finalStateUnknown);
  }

  private static boolean sameData(Secret before, Secret after) {
    return Objects.equals(before.getData(), after.getData())
        && Objects.equals(before.getStringData(), after.getStringData());
  }
}
