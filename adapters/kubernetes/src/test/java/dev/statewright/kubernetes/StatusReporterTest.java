package dev.statewright.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Ready condition against fabric8's mock API server in CRUD mode: it follows a URL change, a
 * failing build and its recovery, is written only when it changed, never shows a credential, and
 * leaves other conditions alone.
 */
@EnableKubernetesMockClient(crud = true)
class StatusReporterTest {
  private static final String NS = "team-a";
  private static final String PASSWORD = "hunter2-s3cret";

  static KubernetesClient client;
  static KubernetesMockServer server;

  private ClientCache<String, PackageRepository.Spec, String> cache;
  private StatusReporter reporter;

  @BeforeEach
  void start() throws Exception {
    server.expectCustomResource(
        CustomResourceDefinitionContext.fromCustomResourceType(PackageRepository.class));
    var source = InformerEventSource
        .builder(client.resources(PackageRepository.class).inNamespace(NS),
            PackageRepository::getSpec)
        .build();
    reporter = StatusReporter.builder(client.genericKubernetesResources(
            ResourceDefinitionContext.fromResourceType(PackageRepository.class)))
        .interval(Duration.ofMillis(500))
        .build();
    cache = ClientCache.<String, PackageRepository.Spec, String>builder((key, spec) -> {
          if (spec.url.contains("broken")) {
            throw new IOException("401 Unauthorized from https://admin:" + PASSWORD
                + "@charts.example (Authorization: Bearer " + PASSWORD + ")");
          }
          return key + " -> " + spec.url;
        })
        .backoff(Backoff.exponential(Duration.ofMillis(200), Duration.ofSeconds(1)))
        .listener(reporter.listener())
        .source(source)
        .build();
    source.started().toCompletableFuture().get(30, TimeUnit.SECONDS);
    reporter.start(cache);
  }

  @AfterEach
  void stop() {
    reporter.close();
    cache.close();
  }

  @Test
  void readyFollowsAUrlChange() {
    PackageRepository repo = create("bitnami", "https://charts.bitnami.com");
    Map<String, Object> first = awaitReady("bitnami", c -> "True".equals(c.get("status")));
    assertThat(first).containsEntry("reason", "Current").containsKey("lastTransitionTime")
        .containsKey("servedVersion").doesNotContainKey("nextRetryTime");
    long servedBefore = ((Number) first.get("servedVersion")).longValue();

    setUrl(repo, "https://mirror.example/bitnami");

    Map<String, Object> second = awaitReady("bitnami", c -> "True".equals(c.get("status"))
        && ((Number) c.get("servedVersion")).longValue() > servedBefore);
    assertThat(second.get("message")).isEqualTo("serving version " + second.get("servedVersion")
        + " (generation " + second.get("servedGeneration") + ")");
    assertThat(((Number) second.get("servedGeneration")).longValue())
        .as("the served generation counts the rebuild")
        .isEqualTo(((Number) first.get("servedGeneration")).longValue() + 1);
    assertThat(cache.snapshot(NS + "/bitnami").orElseThrow().servedSpec().orElseThrow().url)
        .isEqualTo("https://mirror.example/bitnami");
  }

  @Test
  void readyFollowsAFailingBuildAndItsRecoveryWithoutShowingCredentials() {
    PackageRepository repo = create("flaky", "https://charts.example/ok");
    Map<String, Object> ready = awaitReady("flaky", c -> "True".equals(c.get("status")));

    setUrl(repo, "https://charts.example/broken");
    // between a retry's start and its failure the condition is False with no retry scheduled
    Map<String, Object> failing = awaitReady("flaky", c -> "False".equals(c.get("status"))
        && c.containsKey("nextRetryTime"));
    assertThat(failing).containsEntry("reason", "BuildFailed").containsKey("nextRetryTime")
        .containsEntry("servedVersion", ready.get("servedVersion"));
    assertThat((String) failing.get("message"))
        .startsWith("serving version " + ready.get("servedVersion") + " (generation "
            + ready.get("servedGeneration") + "), version ")
        .contains("IOException: 401 Unauthorized from https://<redacted>@charts.example",
            "Authorization: <redacted>", "next retry at ")
        .doesNotContain(PASSWORD).doesNotContain("admin");
    assertThat(failing.get("lastTransitionTime")).isNotNull();

    setUrl(repo, "https://charts.example/fixed");
    Map<String, Object> recovered = awaitReady("flaky", c -> "True".equals(c.get("status")));
    assertThat(recovered).doesNotContainKey("nextRetryTime");
    assertThat(((Number) recovered.get("servedVersion")).longValue())
        .isGreaterThan(((Number) ready.get("servedVersion")).longValue());
    assertThat(String.valueOf(recovered.get("message"))).doesNotContain("error");
  }

  @Test
  void aReportWritesOnlyWhatChangedAndKeepsOtherConditions() {
    PackageRepository repo = create("quiet", "https://charts.example/quiet");
    awaitReady("quiet", c -> "True".equals(c.get("status")));
    GenericKubernetesResource before = generic("quiet");
    Map<String, Object> status = statusOf(before);
    @SuppressWarnings("unchecked")
    List<Object> conditions = (List<Object>) status.get("conditions");
    conditions.add(Map.of("type", "Synced", "status", "True", "reason", "Other",
        "lastTransitionTime", "2026-01-01T00:00:00Z"));
    client.genericKubernetesResources(ResourceDefinitionContext.fromResourceType(
        PackageRepository.class)).inNamespace(NS).resource(before).updateStatus();
    String version = generic("quiet").getMetadata().getResourceVersion();

    assertThat(reporter.report()).as("nothing changed: no write").isZero();
    assertThat(reporter.report()).isZero();
    assertThat(generic("quiet").getMetadata().getResourceVersion()).isEqualTo(version);

    setUrl(repo, "https://charts.example/broken");
    awaitReady("quiet", c -> "False".equals(c.get("status")));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> after = (List<Map<String, Object>>) statusOf(generic("quiet"))
        .get("conditions");
    assertThat(after).extracting(c -> c.get("type")).containsExactlyInAnyOrder("Synced", "Ready");
  }

  @Test
  void redactionRemovesCredentialsItKnowsTheShapeOf() {
    assertThat(StatusReporter.redact("GET https://bob:pw@host/x token=abc password: def "
        + "Authorization=xyz Basic QWxhZGRpbjpvcGVu bearer eyJhbGciOi.x.y"))
        .isEqualTo("GET https://<redacted>@host/x token=<redacted> password: <redacted> "
            + "Authorization=<redacted> Basic <redacted> bearer <redacted>");
    assertThat(StatusReporter.redact("x".repeat(5000))).hasSize(1024);
    assertThat(StatusReporter.redact(null)).isEmpty();
  }

  @Test
  void theReadmeShowsTheCompiledStatusSample() throws Exception {
    List<String> lines = Files.readAllLines(
        Path.of("src/test/java/dev/statewright/kubernetes/ReadmeSample.java"));
    String sample = String.join("\n", lines.subList(lines.indexOf("    // status:start") + 1,
        lines.indexOf("    // status:end")).stream().map(line -> line.substring(4)).toList());
    assertThat(Files.readString(Path.of("../../README.md")))
        .as("README.md shows ReadmeSample's status code verbatim").contains(sample);
    ReadmeSample.reportStatus(client).close(); // it builds, starts and stops
  }

  private GenericKubernetesResource generic(String name) {
    return client.genericKubernetesResources(ResourceDefinitionContext.fromResourceType(
        PackageRepository.class)).inNamespace(NS).withName(name).get();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> statusOf(GenericKubernetesResource r) {
    return (Map<String, Object>) r.getAdditionalProperties().get("status");
  }

  /** Waits (through a watch) until the resource's Ready condition matches; returns it. */
  @SuppressWarnings("unchecked")
  private Map<String, Object> awaitReady(String name, Predicate<Map<String, Object>> condition) {
    GenericKubernetesResource r = client.genericKubernetesResources(
            ResourceDefinitionContext.fromResourceType(PackageRepository.class))
        .inNamespace(NS).withName(name)
        .waitUntilCondition(g -> g != null && ready(g) != null && condition.test(ready(g)),
            30, TimeUnit.SECONDS);
    return ready(r);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> ready(GenericKubernetesResource r) {
    Object status = r.getAdditionalProperties().get("status");
    if (!(status instanceof Map<?, ?> s) || !(s.get("conditions") instanceof List<?> list)) {
      return null;
    }
    return list.stream().filter(c -> c instanceof Map<?, ?> m && "Ready".equals(m.get("type")))
        .map(c -> (Map<String, Object>) c).findFirst().orElse(null);
  }

  /** Changes the URL by a merge patch, unconditionally: the reporter writes the status meanwhile. */
  private static void setUrl(PackageRepository repo, String url) {
    client.resources(PackageRepository.class).inNamespace(NS).withName(repo.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"url\":\"" + url + "\"}}");
  }

  private PackageRepository create(String name, String url) {
    PackageRepository repo = new PackageRepository();
    repo.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    repo.setSpec(new PackageRepository.Spec());
    repo.getSpec().url = url;
    return client.resource(repo).create();
  }
}
