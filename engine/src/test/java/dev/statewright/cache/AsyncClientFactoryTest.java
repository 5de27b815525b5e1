package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.testing.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Builds that complete later, as a simulation or a non-blocking client library completes them. */
class AsyncClientFactoryTest {
  private static final Repo V1 = new Repo("https://charts.example/v1");

  private final ManualScheduler scheduler = new ManualScheduler();
  private final List<CompletableFuture<Client>> pending = new ArrayList<>();
  private final ClientCache<String, Repo, Client> cache = ClientCache
      .<String, Repo, Client>asyncBuilder((key, spec) -> {
        CompletableFuture<Client> build = new CompletableFuture<>();
        pending.add(build);
        return build;
      })
      .scheduler(scheduler).buildTimeout(Duration.ofSeconds(10))
      .backoff(Backoff.fixed(Duration.ofMinutes(1))).build();

  @Test
  void anUpsertCompletesWhenTheStageDoes() {
    CompletableFuture<Snapshot<String, Repo, Client>> done = cache.upsert("redis", V1, 1);
    assertThat(pending).hasSize(1);
    assertThat(done).isNotDone();

    pending.get(0).complete(new Client("redis", V1, 1));

    assertThat(done.join().servedSpec()).contains(V1);
  }

  @Test
  void aFailedStageIsAFailedBuild() {
    CompletableFuture<Snapshot<String, Repo, Client>> done = cache.upsert("redis", V1, 1);
    IOException refused = new IOException("refused");
    pending.get(0).completeExceptionally(refused);

    assertThatThrownBy(done::join).hasCause(refused);
    assertThat(cache.snapshot("redis").orElseThrow().lastError()).contains(refused);
  }

  @Test
  void aStageThatNeverCompletesIsCancelledAtTheTimeoutAndTheNextSpecBuilds() {
    CompletableFuture<Snapshot<String, Repo, Client>> done = cache.upsert("redis", V1, 1);
    scheduler.advance(Duration.ofSeconds(11));

    assertThatThrownBy(done::join).hasCauseInstanceOf(TimeoutException.class);
    assertThat(pending.get(0)).isCancelled();

    CompletableFuture<Snapshot<String, Repo, Client>> retry = cache.upsert("redis", new Repo("x"), 2);
    assertThat(pending).hasSize(2);
    pending.get(1).complete(new Client("redis", new Repo("x"), 2));
    assertThat(retry.join().servedSpec()).contains(new Repo("x"));
  }
}
