package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.testing.ManualScheduler;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** C15: {@link Snapshot#generation()} counts the clients a key served and never goes back. */
class GenerationTest {
  private static final Repo V1 = new Repo("https://charts.example/v1", "secret/a", "");
  private static final Repo V2 = new Repo("https://charts.example/v2", "secret/a", "");

  private final ManualScheduler scheduler = new ManualScheduler();
  private final Factory factory = new Factory();
  private final ClientCache<String, Repo, TestClients.Client> cache = ClientCache.builder(factory)
      .scheduler(scheduler)
      .changePolicy(ChangePolicy.rebuildWhenChanged(Repo::url, Repo::tokenRef))
      .dependsOn(repo -> Set.of(repo.tokenRef()))
      .build();

  @AfterEach
  void close() {
    cache.close();
  }

  private long generation() {
    return cache.snapshot("redis").orElseThrow().generation();
  }

  @Test
  void startsAtOneWithTheFirstServedClient() {
    cache.upsert("redis", V1, 1);
    assertThat(generation()).as("nothing served yet").isZero();

    scheduler.runAll();

    assertThat(generation()).isEqualTo(1);
  }

  @Test
  void countsEveryNewClientEvenOneThatKeepsTheVersion() {
    cache.upsert("redis", V1, 1);
    scheduler.runAll();

    cache.upsert("redis", V1.withDescription("metadata only"), 2);
    scheduler.runAll();
    assertThat(generation()).as("the same client serves a metadata change").isEqualTo(1);

    cache.dependencyChanged("secret/a");
    scheduler.runAll();
    assertThat(cache.snapshot("redis").orElseThrow().servedVersion()).hasValue(2);
    assertThat(generation()).as("a dependency change keeps the version").isEqualTo(2);

    cache.upsert("redis", V2, 3);
    scheduler.runAll();
    assertThat(generation()).isEqualTo(3);
    assertThat(factory.calls("redis")).isEqualTo(3);
  }

  @Test
  void aFailedBuildCountsNothing() {
    cache.upsert("redis", V1, 1);
    scheduler.runAll();
    factory.failure = (key, spec) -> new IllegalStateException("connection refused");

    cache.upsert("redis", V2, 2);
    scheduler.runAll();

    assertThat(cache.snapshot("redis").orElseThrow().lastError()).isPresent();
    assertThat(generation()).isEqualTo(1);
  }

  @Test
  void neverGoesBackAcrossADeleteAndReAdd() {
    cache.upsert("redis", V1, 1);
    scheduler.runAll();
    cache.delete("redis", 2);
    assertThat(generation()).as("the tombstone keeps it").isEqualTo(1);

    cache.upsert("redis", V2, 3);
    scheduler.runAll();

    assertThat(generation()).isEqualTo(2);
  }
}
