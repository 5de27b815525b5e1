package dev.statewright.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.ClientCache;
import dev.statewright.event.EventSink;
import dev.statewright.event.Versioned;
import dev.statewright.lease.Lease;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Progress and consistent reads from the informer source, against fabric8's mock API server in
 * CRUD mode. The mock server sends no watch bookmarks, so what is tested is progress from the
 * first list and from changes, and {@code currentVersion} from a list with {@code limit=1}.
 */
@EnableKubernetesMockClient(crud = true)
class InformerProgressTest {
  private static final String NS = "team-p";

  static KubernetesClient client;
  static KubernetesMockServer server;

  @BeforeEach
  void expectPackageRepositories() {
    server.expectCustomResource(
        CustomResourceDefinitionContext.fromCustomResourceType(PackageRepository.class));
  }

  @Test
  void theFirstListAndEachChangeReportProgressAtTheirResourceVersion() throws Exception {
    create("first", "https://v1.example");
    ProgressSink sink = new ProgressSink();
    InformerEventSource<PackageRepository, PackageRepository.Spec> source = source();
    try {
      source.start(sink);
      source.started().toCompletableFuture().get(30, TimeUnit.SECONDS);
      // Progress is a lower bound: the first list's resourceVersion, which the mock server may
      // give as older than the resource it lists (it did, once in a loaded run: 3 with the
      // resource at 4); reporting less than was delivered is safe, so only its presence is pinned.
      assertThat(sink.reported).as("the first list's resourceVersion").isNotEmpty();
      assertThat(sink.reported.get(0)).isPositive();

      long updated = version(update("first", "https://v2.example"));
      sink.reached(updated).get(30, TimeUnit.SECONDS);
      assertThat(sink.reported).as("progress never goes back").isSorted();
      assertThat(source.reportsProgress()).isTrue();
    } finally {
      source.close();
    }
  }

  @Test
  void aConsistentReadServesWhatWasWrittenBeforeItAndNoDeletedRepository() throws Exception {
    create("consistent", "https://v1.example");
    InformerEventSource<PackageRepository, PackageRepository.Spec> source = source();
    try (ClientCache<String, PackageRepository.Spec, String> cache = ClientCache
        .<String, PackageRepository.Spec, String>builder((key, spec) -> key + " -> " + spec.url)
        .source(source)
        .build()) {
      source.started().toCompletableFuture().get(30, TimeUnit.SECONDS);
      long updated = version(update("consistent", "https://v2.example"));

      assertThat(source.currentVersion().get(30, TimeUnit.SECONDS))
          .as("a list with limit=1 is at least as new as the last write")
          .isGreaterThanOrEqualTo(updated);
      try (Lease<String> lease = cache.acquireConsistent(NS + "/consistent")
          .get(30, TimeUnit.SECONDS)) {
        assertThat(lease.get()).isEqualTo(NS + "/consistent -> https://v2.example");
      }
      try (Lease<String> lease = cache.acquireAsOf(NS + "/consistent", updated)
          .get(30, TimeUnit.SECONDS)) {
        assertThat(lease.get()).isEqualTo(NS + "/consistent -> https://v2.example");
      }

      client.resources(PackageRepository.class).inNamespace(NS).withName("consistent").delete();
      // the mock server's lists, unlike the API server's, keep their resourceVersion across a
      // delete: a later write stands in for the store moving past it
      long later = version(create("later", "https://later.example"));
      assertThatThrownBy(() -> cache.acquireAsOf(NS + "/consistent", later)
          .get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(NoSuchElementException.class);
      assertThatThrownBy(() -> cache.acquireConsistent(NS + "/consistent")
          .get(30, TimeUnit.SECONDS))
          .as("and so does a consistent read after it")
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(NoSuchElementException.class);
    }
  }

  private InformerEventSource<PackageRepository, PackageRepository.Spec> source() {
    return InformerEventSource
        .builder(client.resources(PackageRepository.class).inNamespace(NS),
            PackageRepository::getSpec)
        .build();
  }

  private PackageRepository create(String name, String url) {
    PackageRepository repo = new PackageRepository();
    repo.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    repo.setSpec(new PackageRepository.Spec());
    repo.getSpec().url = url;
    return client.resource(repo).create();
  }

  private PackageRepository update(String name, String url) {
    return client.resources(PackageRepository.class).inNamespace(NS).withName(name)
        .edit(repo -> {
          repo.getSpec().url = url;
          return repo;
        });
  }

  private static long version(PackageRepository repo) {
    return Long.parseLong(repo.getMetadata().getResourceVersion());
  }

  /** Records progress reports; lets a test wait, bounded, for one at least as new as it names. */
  private static final class ProgressSink implements EventSink<String, PackageRepository.Spec> {
    final List<Long> reported = new CopyOnWriteArrayList<>();
    private final List<Map.Entry<Long, CompletableFuture<Void>>> waiting =
        new CopyOnWriteArrayList<>();

    CompletableFuture<Void> reached(long version) {
      CompletableFuture<Void> done = new CompletableFuture<>();
      waiting.add(Map.entry(version, done));
      reported.stream().filter(v -> v >= version).findAny().ifPresent(v -> done.complete(null));
      return done;
    }

    @Override
    public void progress(long version) {
      reported.add(version);
      waiting.forEach(w -> {
        if (version >= w.getKey()) {
          w.getValue().complete(null);
        }
      });
    }

    @Override
    public void upsert(String key, PackageRepository.Spec spec, long version) { }

    @Override
    public void delete(String key, long version) { }

    @Override
    public void resync(Map<String, Versioned<PackageRepository.Spec>> all) { }
  }
}
