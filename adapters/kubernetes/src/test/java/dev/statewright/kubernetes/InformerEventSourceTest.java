package dev.statewright.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryState;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The informer source against fabric8's mock API server in CRUD mode: a real HTTP API with
 * watches, holding {@link PackageRepository} resources and Secrets.
 */
@EnableKubernetesMockClient(crud = true)
class InformerEventSourceTest {
  private static final String NS = "team-a";

  static KubernetesClient client;
  static KubernetesMockServer server;

  private final List<String> built = new CopyOnWriteArrayList<>();
  private final Map<String, CompletableFuture<String>> builtWith = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<String>> closedClients = new ConcurrentHashMap<>();
  private ClientCache<String, PackageRepository.Spec, String> cache;

  @BeforeEach
  void startCache() throws Exception {
    server.expectCustomResource(
        CustomResourceDefinitionContext.fromCustomResourceType(PackageRepository.class));
    var source = InformerEventSource
        .builder(client.resources(PackageRepository.class).inNamespace(NS),
            PackageRepository::getSpec)
        .secrets(client.secrets().inNamespace(NS))
        .build();
    cache = ClientCache.<String, PackageRepository.Spec, String>builder((key, spec) -> {
          String client = key + " -> " + spec.url + " with a token of "
              + token(spec.tokenSecret).length() + " characters";
          built.add(client);
          builtWith.computeIfAbsent(client, c -> new CompletableFuture<>()).complete(client);
          long n = built.stream().filter(c -> c.startsWith(key + " -> ")).count();
          builtWith.computeIfAbsent(key + " build #" + n, c -> new CompletableFuture<>()).complete(client);
          return client;
        })
        .dependsOn(spec -> spec.tokenSecret == null ? Set.of() : Set.of(NS + "/" + spec.tokenSecret))
        .closer(closed -> closedClients.computeIfAbsent(closed, c -> new CompletableFuture<>())
            .complete(closed))
        .source(source)
        .build();
    // the mock server, unlike the API server, replays no events to a watch that starts late
    source.started().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void closeCache() {
    cache.close();
  }

  @Test
  void aUrlChangeRebuildsTheClient() throws Exception {
    secret("bitnami-token", "abc");
    PackageRepository repo = create("bitnami", "https://charts.bitnami.com", "bitnami-token");
    awaitBuilt("team-a/bitnami -> https://charts.bitnami.com with a token of 3 characters");
    repo.getSpec().url = "https://mirror.example/bitnami";
    client.resource(repo).update();
    awaitBuilt("team-a/bitnami -> https://mirror.example/bitnami with a token of 3 characters");
    awaitClosed("team-a/bitnami -> https://charts.bitnami.com with a token of 3 characters");
    assertThat(cache.snapshot(NS + "/bitnami").orElseThrow().servedSpec().orElseThrow().url)
        .isEqualTo("https://mirror.example/bitnami");
  }

  @Test
  void aStatusOnlyUpdateRebuildsNothing() throws Exception {
    PackageRepository repo = create("stable", "https://charts.example/stable", null);
    awaitBuilt("team-a/stable -> https://charts.example/stable with a token of 0 characters");
    Long generation = client.resource(repo).get().getMetadata().getGeneration();
    PackageRepository.Status status = new PackageRepository.Status();
    status.phase = "Ready";
    repo = client.resource(repo).get();
    repo.setStatus(status);
    client.resource(repo).updateStatus();
    assertThat(client.resource(repo).get().getMetadata().getGeneration())
        .as("the API server keeps the generation for a status update").isEqualTo(generation);
    // events reach the source in order: once a later change is built, the status one was seen
    create("marker", "https://marker.example", null);
    awaitBuilt("team-a/marker -> https://marker.example with a token of 0 characters");
    assertThat(built).filteredOn(c -> c.startsWith("team-a/stable ")).hasSize(1);
  }

  @Test
  void aChangedSecretRebuildsTheReposThatUseIt() throws Exception {
    secret("shared-token", "abc");
    create("one", "https://one.example", "shared-token");
    create("two", "https://two.example", null);
    awaitBuilt("team-a/one -> https://one.example with a token of 3 characters");
    awaitBuilt("team-a/two -> https://two.example with a token of 0 characters");
    secret("shared-token", "abcdefgh");
    awaitBuilt("team-a/one -> https://one.example with a token of 8 characters");
    assertThat(built).filteredOn(c -> c.startsWith("team-a/two ")).hasSize(1);
  }

  @Test
  void aDeleteClosesTheClientAndARecreatedResourceIsServedAgain() throws Exception {
    PackageRepository repo = create("gone", "https://gone.example", null);
    String first = "team-a/gone -> https://gone.example with a token of 0 characters";
    awaitBuilt(first);
    client.resource(repo).delete();
    awaitClosed(first);
    assertThat(cache.snapshot(NS + "/gone")).get().extracting(s -> s.state())
        .isEqualTo(EntryState.REMOVED);
    // the new incarnation starts at generation 1 again; it must not be taken for an old event
    create("gone", "https://back.example", null);
    awaitBuilt("team-a/gone -> https://back.example with a token of 0 characters");
  }

  @Test
  void underResourceVersionEveryChangeIsANewVersion() throws Exception {
    var source = InformerEventSource
        .builder(client.resources(PackageRepository.class).inNamespace(NS),
            PackageRepository::getSpec)
        .version(InformerEventSource.VersionPolicy.RESOURCE_VERSION)
        .build();
    CompletableFuture<Void> firstBuild = new CompletableFuture<>();
    try (ClientCache<String, PackageRepository.Spec, String> byResourceVersion = ClientCache
        .<String, PackageRepository.Spec, String>builder((key, spec) -> {
          if (key.equals(NS + "/versioned")) {
            firstBuild.complete(null);
          }
          return key + " -> " + spec.url;
        })
        .source(source)
        .build()) {
      source.started().toCompletableFuture().get(30, TimeUnit.SECONDS);
      PackageRepository repo = create("versioned", "https://v1.example", null);
      long created = Long.parseLong(repo.getMetadata().getResourceVersion());
      firstBuild.get(30, TimeUnit.SECONDS);
      assertThat(byResourceVersion.snapshot(NS + "/versioned").orElseThrow().desiredVersion())
          .isEqualTo(created);
      PackageRepository.Status status = new PackageRepository.Status();
      status.phase = "Ready";
      repo.setStatus(status);
      long statusVersion = Long.parseLong(
          client.resource(repo).updateStatus().getMetadata().getResourceVersion());
      byResourceVersion.acquireAsync(NS + "/versioned", statusVersion).get(30, TimeUnit.SECONDS)
          .close();
      assertThat(byResourceVersion.snapshot(NS + "/versioned").orElseThrow().servedVersion())
          .as("the status update is a new version").hasValue(statusVersion);
    }
  }

  @Test
  void aRotationWhoseDataCollidesUnderA32BitHashStillRebuilds() throws Exception {
    // "Aa" and "BB" share a String hashCode, so swapping their values keeps Map.hashCode
    Map<String, String> before = Map.of("token", base64("abc"), "Aa", base64("one"), "BB", base64("two"));
    Map<String, String> after = Map.of("token", base64("abc"), "Aa", base64("two"), "BB", base64("one"));
    assertThat(Objects.hash(after, null)).as("the two data maps collide under Objects.hash")
        .isEqualTo(Objects.hash(before, null));
    secretData("colliding-token", before);
    create("collider", "https://collider.example", "colliding-token");
    awaitBuilt("team-a/collider build #1");
    secretData("colliding-token", after);
    awaitBuilt("team-a/collider build #2");
  }

  @Test
  void informersThatFailToStartAreStartedAgainWithBackoff() throws Exception {
    var repos = new FlakyInformable<>(client.resources(PackageRepository.class).inNamespace(NS), 2);
    var secrets = new FlakyInformable<>(client.secrets().inNamespace(NS), 1);
    var source = InformerEventSource.builder(repos, PackageRepository::getSpec)
        .secrets(secrets)
        .restartBackoff(Backoff.fixed(Duration.ofMillis(20)))
        .build();
    Map<String, CompletableFuture<String>> builtWithToken = new ConcurrentHashMap<>();
    try (ClientCache<String, PackageRepository.Spec, String> flaky = ClientCache
        .<String, PackageRepository.Spec, String>builder((key, spec) -> {
          String token = token(spec.tokenSecret);
          String built = key + " -> " + spec.url + " with " + token;
          builtWithToken.computeIfAbsent(token, t -> new CompletableFuture<>()).complete(built);
          return built;
        })
        .dependsOn(spec -> Set.of(NS + "/" + spec.tokenSecret))
        .source(source)
        .build()) {
      source.started().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(repos.made()).as("two failed starts, then one that lists").isEqualTo(3);
      secret("flaky-token", "abc");
      create("flaky", "https://flaky.example", "flaky-token");
      builtWithToken.computeIfAbsent("abc", t -> new CompletableFuture<>()).get(30, TimeUnit.SECONDS);
      secret("flaky-token", "xyz");
      assertThat(builtWithToken.computeIfAbsent("xyz", t -> new CompletableFuture<>()).get(30, TimeUnit.SECONDS)).isEqualTo("team-a/flaky -> https://flaky.example with xyz");
      assertThat(secrets.made()).as("the Secret informer failed once, then started").isEqualTo(2);
      assertThat(flaky.snapshot(NS + "/flaky")).isPresent();
    }
  }

  @Test
  void theReadmeShowsTheCompiledSample() throws Exception {
    List<String> lines = Files.readAllLines(
        Path.of("src/test/java/dev/statewright/kubernetes/ReadmeSample.java"));
    String sample = String.join("\n", lines.subList(lines.indexOf("    // sample:start") + 1,
        lines.indexOf("    // sample:end")).stream().map(line -> line.substring(4)).toList());
    assertThat(Files.readString(Path.of("../../README.md")))
        .as("README.md shows ReadmeSample's code verbatim").contains(sample);
    ReadmeSample.repositories(client).close(); // it builds, starts and stops
  }

  private PackageRepository create(String name, String url, String tokenSecret) {
    PackageRepository repo = new PackageRepository();
    repo.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    repo.setSpec(new PackageRepository.Spec());
    repo.getSpec().url = url;
    repo.getSpec().tokenSecret = tokenSecret;
    return client.resource(repo).create();
  }

  private static void secret(String name, String token) {
    secretData(name, Map.of("token", base64(token)));
  }

  private static void secretData(String name, Map<String, String> data) {
    Secret secret = new SecretBuilder().withNewMetadata().withNamespace(NS).withName(name)
        .endMetadata()
        .withData(data)
        .build();
    client.resource(secret).createOr(existing -> existing.update());
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String token(String secretName) {
    if (secretName == null) {
      return "";
    }
    Secret secret = client.secrets().inNamespace(NS).withName(secretName).get();
    return new String(Base64.getDecoder().decode(secret.getData().get("token")),
        StandardCharsets.UTF_8);
  }

  private void awaitBuilt(String clientDescription) throws Exception {
    builtWith.computeIfAbsent(clientDescription, c -> new CompletableFuture<>())
        .get(30, TimeUnit.SECONDS);
  }

  private void awaitClosed(String clientDescription) throws Exception {
    closedClients.computeIfAbsent(clientDescription, c -> new CompletableFuture<>())
        .get(30, TimeUnit.SECONDS);
  }
}
