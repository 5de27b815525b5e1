package dev.statewright.josdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.EntryState;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.Operator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's operator — a real JOSDK {@link Operator}, in process — against fabric8's mock API
 * server in CRUD mode: a URL change, a Secret rotation, a delete and re-create each rebuild
 * exactly the right client, and the reconciler acts only with the client of what it reconciles.
 */
@EnableKubernetesMockClient(crud = true)
class ClientPerResourceOperatorTest {
  private static final AtomicInteger NAMESPACES = new AtomicInteger();

  static KubernetesClient client;
  static KubernetesMockServer server;

  private final String ns = "team-" + NAMESPACES.incrementAndGet(); // the server outlives a test
  private RepositoryReconciler reconciler;
  private Operator operator;

  @BeforeEach
  void startOperator() {
    server.expectCustomResource(
        CustomResourceDefinitionContext.fromCustomResourceType(PackageRepository.class));
    RepoClient.kubernetes = client;
    reconciler = new RepositoryReconciler();
    operator = new Operator(settings -> settings
        .withKubernetesClient(client)
        .withCloseClientOnStop(false)
        .checkingCRDAndValidateLocalModel(false)   // the mock server holds no CRDs
        .withUseSSAToPatchPrimaryResource(false)); // nor does it apply server-side
    operator.register(reconciler, controller -> controller.settingNamespace(ns));
    operator.start();
  }

  @AfterEach
  void stopOperator() {
    operator.stop();
    reconciler.repos.close();
  }

  @Test
  void aUrlChangeRebuildsThatRepositorysClientOnly() throws Exception {
    secret("one-token", "abc");
    secret("two-token", "xyz");
    create("one", "https://one.example", "one-token");
    create("two", "https://two.example", "two-token");
    String firstOne = ns + "/one -> https://one.example with token abc";
    String two = ns + "/two -> https://two.example with token xyz";
    await(RepoClient.USED, firstOne);
    await(RepoClient.USED, two);

    // a status write on the mock server can undo more than the status (the delete test below
    // meets one dropping a deletionTimestamp): let the first reconcile's land before the change
    statusIndex("one", "index of " + firstOne);
    changeUrl("one", "https://mirror.example/one");
    String movedOne = ns + "/one -> https://mirror.example/one with token abc";
    awaitUse(movedOne, "one");
    await(RepoClient.CLOSED, firstOne);

    assertThat(RepoClient.BUILT.countStartingWith(ns + "/one ")).as("builds of one").isEqualTo(2);
    assertThat(RepoClient.BUILT.countStartingWith(ns + "/two ")).as("builds of two").isEqualTo(1);
    assertThat(RepoClient.CLOSED.count(two)).isZero();
    assertThat(statusIndex("one", "index of " + movedOne)).isEqualTo("index of " + movedOne);
  }

  @Test
  void aSecretRotationRebuildsTheRepositoriesThatReadIt() throws Exception {
    secret("shared-token", "abc");
    secret("own-token", "own");
    create("one", "https://one.example", "shared-token");
    create("two", "https://two.example", "shared-token");
    create("three", "https://three.example", "own-token");
    for (String name : List.of("one", "two")) {
      await(RepoClient.USED, ns + "/" + name + " -> https://" + name + ".example with token abc");
    }
    String three = ns + "/three -> https://three.example with token own";
    await(RepoClient.USED, three);

    secret("shared-token", "rotated");
    for (String name : List.of("one", "two")) {
      String rotated = ns + "/" + name + " -> https://" + name + ".example with token rotated";
      await(RepoClient.USED, rotated); // JOSDK reconciles it, and it acts with the new client
      await(RepoClient.CLOSED, ns + "/" + name + " -> https://" + name + ".example with token abc");
      assertThat(RepoClient.BUILT.count(rotated)).isEqualTo(1);
      assertThat(RepoClient.BUILT.countStartingWith(ns + "/" + name + " ")).isEqualTo(2);
    }
    assertThat(RepoClient.BUILT.countStartingWith(ns + "/three ")).isEqualTo(1);
    assertThat(RepoClient.CLOSED.count(three)).isZero();
  }

  @Test
  void aDeleteClosesTheClientAndARecreatedRepositoryGetsANewOne() throws Exception {
    secret("token", "abc");
    create("gone", "https://gone.example", "token");
    String first = ns + "/gone -> https://gone.example with token abc";
    await(RepoClient.USED, first);
    long firstVersion = reconciler.repos.cache().snapshot(ns + "/gone").orElseThrow()
        .desiredVersion();

    // the mock server, unlike the API server, lets a status update made after the delete drop
    // its deletionTimestamp: delete once the reconcile has written its status
    statusIndex("gone", "index of " + first);
    repository("gone").delete();
    await(RepoClient.CLOSED, first);
    awaitDeleted("gone"); // once cleanup returned, JOSDK removes the finalizer
    assertThat(reconciler.repos.cache().snapshot(ns + "/gone")).get()
        .extracting(snapshot -> snapshot.state()).isEqualTo(EntryState.REMOVED);

    // a new incarnation: generation 1 again, a new uid; it must not be taken for an old event
    create("gone", "https://back.example", "token");
    await(RepoClient.USED, ns + "/gone -> https://back.example with token abc");
    assertThat(reconciler.repos.cache().snapshot(ns + "/gone").orElseThrow().desiredVersion())
        .isGreaterThan(firstVersion + 1);
    assertThat(RepoClient.BUILT.countStartingWith(ns + "/gone ")).isEqualTo(2);
  }

  @Test
  void theReadmeShowsTheOperatorVerbatim() throws Exception {
    List<String> lines = Files.readAllLines(
        Path.of("src/test/java/dev/statewright/josdk/RepositoryReconciler.java"));
    String sample = String.join("\n",
        lines.subList(lines.indexOf("// sample:start") + 1, lines.indexOf("// sample:end")));
    assertThat(Files.readString(Path.of("../../README.md")))
        .as("README.md shows RepositoryReconciler verbatim").contains(sample);
  }

  private PackageRepository create(String name, String url, String tokenSecret) {
    PackageRepository repo = new PackageRepository();
    repo.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    repo.setSpec(new PackageRepository.Spec());
    repo.getSpec().url = url;
    repo.getSpec().tokenSecret = tokenSecret;
    return client.resource(repo).create();
  }

  /** An update of the spec (which bumps the generation), retried while the operator writes too. */
  private void changeUrl(String name, String url) {
    for (int attempt = 1; ; attempt++) {
      PackageRepository repo = repository(name).get();
      repo.getSpec().url = url;
      try {
        client.resource(repo).update();
        return;
      } catch (KubernetesClientException conflict) {
        if (conflict.getCode() != 409 || attempt == 10) {
          throw conflict;
        }
      }
    }
  }

  private void awaitDeleted(String name) throws Exception {
    CompletableFuture<Void> deleted = new CompletableFuture<>();
    Watch watch = repository(name).watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, PackageRepository repo) {
        if (action == Action.DELETED) {
          deleted.complete(null);
        }
      }

      @Override
      public void onClose(WatcherException cause) { }
    });
    try {
      if (repository(name).get() != null) {
        deleted.get(30, TimeUnit.SECONDS);
      }
    } finally {
      watch.close();
    }
  }

  private Resource<PackageRepository> repository(String name) {
    return client.resources(PackageRepository.class).inNamespace(ns).withName(name);
  }

  private void secret(String name, String token) {
    Secret secret = new SecretBuilder().withNewMetadata().withNamespace(ns).withName(name)
        .endMetadata()
        .withData(Map.of("token", Base64.getEncoder().encodeToString(
            token.getBytes(StandardCharsets.UTF_8))))
        .build();
    client.resource(secret).createOr(existing -> existing.update());
  }

  private String statusIndex(String name, String expected) {
    // the status patch follows the reconcile that acted: wait for it rather than sleep
    return repository(name).waitUntilCondition(repo -> repo != null && repo.getStatus() != null
            && expected.equals(repo.getStatus().index), 30, TimeUnit.SECONDS)
        .getStatus().index;
  }

  /** As {@code await(USED, description)}, failing with what the server and the cache hold. */
  private void awaitUse(String description, String name) throws Exception {
    try {
      await(RepoClient.USED, description);
    } catch (TimeoutException e) {
      PackageRepository now = repository(name).get();
      throw new AssertionError("never used: " + description + "; the server holds url "
          + now.getSpec().url + " at generation " + now.getMetadata().getGeneration()
          + " with status " + (now.getStatus() == null ? null : now.getStatus().index)
          + "; the cache holds " + reconciler.repos.cache().snapshot(ns + "/" + name), e);
    }
  }

  private static void await(RepoClient.Recorder recorder, String description) throws Exception {
    recorder.future(description).get(30, TimeUnit.SECONDS);
  }
}
