package dev.statewright.josdk;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The README operator's client of a package repository: it reads its token from the Secret the
 * spec names when it connects. Every client built, acted with and closed is recorded by its
 * description ({@code team-a/one -> https://... with token abc}) for the tests to wait on.
 */
final class RepoClient implements AutoCloseable {
  static volatile KubernetesClient kubernetes;
  static final Recorder BUILT = new Recorder();
  static final Recorder USED = new Recorder();
  static final Recorder CLOSED = new Recorder();

  private final String description;

  private RepoClient(String description) {
    this.description = description;
  }

  static RepoClient connect(String key, PackageRepository.Spec spec) {
    RepoClient client = new RepoClient(key + " -> " + spec.url + " with token "
        + token(key.substring(0, key.indexOf('/')), spec.tokenSecret));
    BUILT.record(client.description);
    return client;
  }

  /** What the operator does with the client: reads the index and says what it read it with. */
  String index() {
    USED.record(description);
    return "index of " + description;
  }

  @Override
  public void close() {
    CLOSED.record(description);
  }

  @Override
  public String toString() {
    return description;
  }

  private static String token(String namespace, String secretName) {
    Secret secret = secretName == null ? null
        : kubernetes.secrets().inNamespace(namespace).withName(secretName).get();
    if (secret == null) {
      return "none";
    }
    return new String(Base64.getDecoder().decode(secret.getData().get("token")),
        StandardCharsets.UTF_8);
  }

  /** Descriptions seen, each with a future the tests wait on, and how often each was seen. */
  static final class Recorder {
    private final Map<String, CompletableFuture<Void>> seen = new ConcurrentHashMap<>();
    private final Map<String, Integer> counts = new ConcurrentHashMap<>();

    void record(String description) {
      counts.merge(description, 1, Integer::sum);
      future(description).complete(null);
    }

    CompletableFuture<Void> future(String description) {
      return seen.computeIfAbsent(description, d -> new CompletableFuture<>());
    }

    int count(String description) {
      return counts.getOrDefault(description, 0);
    }

    long countStartingWith(String prefix) {
      return counts.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
          .mapToLong(Map.Entry::getValue).sum();
    }

    void clear() {
      seen.clear();
      counts.clear();
    }
  }
}
