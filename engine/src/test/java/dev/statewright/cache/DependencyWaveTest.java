package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.event.ManualEventSource;
import dev.statewright.lifecycle.Transition;
import dev.statewright.testing.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** C14: a dependency change rebuilds canaries first, then the rest at the wave's rate. */
class DependencyWaveTest {
  private static final String SECRET = "secret/token";
  private static final int DEPENDENTS = 10;

  private final ManualScheduler scheduler = new ManualScheduler();
  private final Factory factory = new Factory();
  /** Keys in the order a dependency change reached them (DEPENDENCY_CHANGED transitions). */
  private final List<String> marked = Collections.synchronizedList(new ArrayList<>());
  /** Records each key a dependency change marks stale, in order. */
  private final CacheListener<String> marking = new CacheListener<>() {
    @Override
    public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
      if (t.event() == EntryEvent.DEPENDENCY_CHANGED) {
        marked.add(key);
      }
    }
  };
  private final ManualEventSource<String, Repo> source = new ManualEventSource<>();
  private ClientCache<String, Repo, Client> cache;

  private void start(Wave wave) {
    cache = ClientCache.builder(factory)
        .name("repositories")
        .scheduler(scheduler)
        .backoff(Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(60)))
        .dependsOn(repo -> repo.tokenRef() == null ? Set.of() : Set.of(repo.tokenRef()))
        .dependencyWave(wave)
        .source(source)
        .listener(marking)
        .build();
    for (int i = 0; i < DEPENDENTS; i++) {
      cache.upsert(key(i), repo(i), 1);
    }
    scheduler.runAll();
    assertThat(factory.built).hasSize(DEPENDENTS);
  }

  @AfterEach
  void close() {
    if (cache != null) {
      cache.close();
    }
  }

  private static String key(int i) {
    return "repo-" + i;
  }

  private static Repo repo(int i) {
    return new Repo("https://charts.example/" + i, SECRET, "");
  }

  private Map<String, Integer> calls() {
    Map<String, Integer> calls = new HashMap<>();
    for (int i = 0; i < DEPENDENTS; i++) {
      calls.put(key(i), factory.calls(key(i)));
    }
    return calls;
  }

  private int rebuilt() {
    return factory.built.size() - DEPENDENTS;
  }

  private Snapshot<String, Repo, Client> snapshot(String key) {
    return cache.snapshot(key).orElseThrow();
  }

  @Test
  void badArgumentsAreRejectedNamingThem() {
    assertThatThrownBy(() -> Wave.canaryFirst(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("canaryFirst(n): n must be >= 1, got 0");
    assertThatThrownBy(() -> Wave.canaryFirst(1).thenAtMost(0, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("thenAtMost(builds, per): builds must be >= 1, got 0");
    assertThatThrownBy(() -> Wave.canaryFirst(1).thenAtMost(1, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("thenAtMost(builds, per): per must be positive, got PT0S");
    assertThatThrownBy(() -> Wave.canaryFirst(1).thenAtMost(1, Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("per must be positive");
    assertThatThrownBy(() -> Wave.all().thenAtMost(1, null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("per");
    assertThatThrownBy(() -> ClientCache.builder(factory).dependencyWave(null))
        .isInstanceOf(NullPointerException.class).hasMessage("wave");
  }

  @Test
  void aWaveSaysWhatItIs() {
    Wave wave = Wave.canaryFirst(2).thenAtMost(5, Duration.ofSeconds(1));
    assertThat(wave.canaries()).isEqualTo(2);
    assertThat(wave.builds()).isEqualTo(5);
    assertThat(wave.per()).hasValue(Duration.ofSeconds(1));
    assertThat(wave).hasToString("Wave.canaryFirst(2).thenAtMost(5, PT1S)")
        .isEqualTo(Wave.canaryFirst(2).thenAtMost(5, Duration.ofSeconds(1)))
        .hasSameHashCodeAs(Wave.canaryFirst(2).thenAtMost(5, Duration.ofSeconds(1)))
        .isNotEqualTo(Wave.canaryFirst(3).thenAtMost(5, Duration.ofSeconds(1)))
        .isNotEqualTo(Wave.canaryFirst(2).thenAtMost(4, Duration.ofSeconds(1)))
        .isNotEqualTo(Wave.canaryFirst(2).thenAtMost(5, Duration.ofSeconds(2)))
        .isNotEqualTo(Wave.canaryFirst(2));
    assertThat(Wave.all()).hasToString("Wave.all()").isEqualTo(Wave.all());
    assertThat(Wave.all().per()).isEmpty();
    assertThat(Wave.all().canaries()).isZero();
    assertThat(Wave.canaryFirst(3)).hasToString("Wave.canaryFirst(3)");
    assertThat(Wave.all().thenAtMost(2, Duration.ofMinutes(1)))
        .hasToString("Wave.all().thenAtMost(2, PT1M)");
    assertThat(Wave.all().isAll()).isTrue();
    assertThat(Wave.canaryFirst(1).isAll()).isFalse();
    assertThat(Wave.all().thenAtMost(1, Duration.ofSeconds(1)).isAll()).isFalse();
  }

  @Test
  void canariesFirstThenTheRestAtNoMoreThanTheRate() {
    start(Wave.canaryFirst(2).thenAtMost(3, Duration.ofSeconds(1)));

    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    assertThat(marked).as("only the canaries are stale").hasSize(2);
    assertThat(rebuilt()).isZero();

    scheduler.runAll(); // the canaries build and serve; the first window opens at once
    assertThat(marked).hasSize(5);
    scheduler.runAll();
    assertThat(rebuilt()).isEqualTo(5);

    scheduler.advance(Duration.ofMillis(999));
    assertThat(rebuilt()).as("no second window within a second").isEqualTo(5);
    assertThat(wave).isNotDone();
    scheduler.advance(Duration.ofMillis(1));
    assertThat(rebuilt()).isEqualTo(8);
    assertThat(wave).isNotDone();
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(rebuilt()).isEqualTo(DEPENDENTS);
    assertThat(wave).isCompleted();
    assertThat(calls().values()).as("each dependent rebuilt once").containsOnly(2);
    assertThat(cache.list()).allSatisfy(s -> {
      assertThat(s.state()).isEqualTo(EntryState.CURRENT);
      assertThat(s.generation()).as("one more client served (C15)").isEqualTo(2);
    });
  }

  @Test
  void withoutARateTheRestFollowTheCanariesAtOnce() {
    start(Wave.canaryFirst(1));

    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    assertThat(marked).hasSize(1);
    scheduler.runAll();
    assertThat(marked).hasSize(DEPENDENTS);
    scheduler.runAll();
    assertThat(wave).isCompleted();
    assertThat(calls().values()).containsOnly(2);
  }

  @Test
  void aFailedCanaryStopsTheWaveAndTheRestRecordItsError() {
    start(Wave.canaryFirst(2).thenAtMost(3, Duration.ofSeconds(1)));
    IOException badToken = new IOException("401 Unauthorized: the new token is wrong");
    factory.failure = (key, spec) -> badToken;
    Map<String, Client> before = new HashMap<>();
    cache.list().forEach(s -> before.put(s.key(), served(s.key())));

    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    scheduler.runAll();

    assertThat(wave).isCompletedExceptionally();
    assertThatThrownBy(wave::join).isInstanceOf(CompletionException.class).cause().isSameAs(badToken);
    List<String> canaries = List.copyOf(marked);
    assertThat(canaries).hasSize(2);
    scheduler.advance(Duration.ofMinutes(10)); // the canaries retry (C7); the rest never start
    assertThat(marked).as("no dependent released after the failed canary").isEqualTo(canaries);
    for (Snapshot<String, Repo, Client> s : cache.list()) {
      if (canaries.contains(s.key())) {
        continue;
      }
      assertThat(factory.calls(s.key())).as(s.key() + " not rebuilt").isEqualTo(1);
      assertThat(s.state()).isEqualTo(EntryState.CURRENT);
      assertThat(s.lastError()).as(s.key() + " records the canary's error").containsSame(badToken);
      assertThat(served(s.key())).as(s.key() + " keeps its client").isSameAs(before.get(s.key()));
      assertThat(s.generation()).as(s.key() + " serves its first client still").isEqualTo(1);
    }
  }

  @Test
  void aLaterChangeOfTheDependencyReleasesTheHeldKeys() {
    start(Wave.canaryFirst(1).thenAtMost(5, Duration.ofSeconds(1)));
    factory.failure = (key, spec) -> new IOException("401");
    cache.dependencyChanged(SECRET);
    scheduler.runAll();
    assertThat(marked).hasSize(1);

    factory.failure = (key, spec) -> null; // the Secret is fixed and changes again
    CompletableFuture<Void> again = cache.dependencyChanged(SECRET);
    scheduler.runAll();
    scheduler.advance(Duration.ofSeconds(1));

    assertThat(again).isCompleted();
    assertThat(cache.list()).allSatisfy(s -> {
      assertThat(s.lastError()).as(s.key()).isEmpty();
      assertThat(s.state()).isEqualTo(EntryState.CURRENT);
    });
    assertThat(rebuilt()).isEqualTo(DEPENDENTS);
  }

  @Test
  void aSpecChangeReleasesOneHeldKey() {
    start(Wave.canaryFirst(1).thenAtMost(5, Duration.ofSeconds(1)));
    factory.failure = (key, spec) -> spec.description().isEmpty() ? new IOException("401") : null;
    cache.dependencyChanged(SECRET);
    scheduler.runAll();
    String held = cache.list().stream().map(Snapshot::key).filter(k -> !marked.contains(k))
        .findFirst().orElseThrow();
    assertThat(snapshot(held).lastError()).isPresent();

    CompletableFuture<?> upsert = cache.upsert(held, repo(9).withDescription("new"), 2);
    scheduler.runAll();

    assertThat(upsert).isCompleted();
    assertThat(snapshot(held).lastError()).isEmpty();
    assertThat(factory.calls(held)).isEqualTo(2);
  }

  @Test
  void aSecondChangeMidWaveWinsAndNoDependentRebuildsTwiceForIt() {
    start(Wave.canaryFirst(1).thenAtMost(2, Duration.ofSeconds(1)));
    CompletableFuture<Void> first = cache.dependencyChanged(SECRET);
    scheduler.runAll();
    scheduler.runAll(); // the canary and the first window (two) rebuilt
    assertThat(rebuilt()).isEqualTo(3);
    List<String> reachedByFirst = List.copyOf(marked);
    Map<String, Integer> beforeSecond = calls();

    CompletableFuture<Void> second = cache.dependencyChanged(SECRET);
    scheduler.runAll();
    scheduler.advance(Duration.ofSeconds(10));

    assertThat(second).isCompleted();
    assertThat(first).as("the first change's future follows the wave that won").isCompleted();
    calls().forEach((key, n) -> assertThat(n - beforeSecond.get(key))
        .as(key + " rebuilt once after the second change").isEqualTo(1));
    calls().forEach((key, n) -> assertThat(n)
        .as(key + (reachedByFirst.contains(key) ? " rebuilt by both changes" : " rebuilt once"))
        .isEqualTo(reachedByFirst.contains(key) ? 3 : 2));
  }

  @Test
  void aSecondChangeWhileTheCanaryBuildsReleasesEveryOtherKeyOnce() {
    start(Wave.canaryFirst(1).thenAtMost(2, Duration.ofSeconds(1)));
    CompletableFuture<Void> first = cache.dependencyChanged(SECRET);
    String canary = marked.get(0);
    CompletableFuture<Void> second = cache.dependencyChanged(SECRET);
    assertThat(marked).as("the old wave's canary, still queued, is the new wave's")
        .containsExactly(canary, canary);

    scheduler.runAll();
    scheduler.advance(Duration.ofSeconds(10));

    assertThat(first).isCompleted();
    assertThat(second).isCompleted();
    // the canary's build had started (its factory call queued): one more follows it (C3)
    calls().forEach((key, n) -> assertThat(n).as(key).isEqualTo(key.equals(canary) ? 3 : 2));
  }

  @Test
  void keysTheOldWaveLeftMidRebuildAreTheNewWavesFirstCanaries() {
    List<Map.Entry<String, CompletableFuture<Client>>> builds = new ArrayList<>();
    cache = ClientCache.<String, Repo, Client>asyncBuilder((key, spec) -> {
          CompletableFuture<Client> build = new CompletableFuture<>();
          builds.add(Map.entry(key, build));
          return build;
        })
        .scheduler(scheduler)
        .dependsOn(repo -> Set.of(repo.tokenRef()))
        .dependencyWave(Wave.canaryFirst(1).thenAtMost(3, Duration.ofSeconds(1)))
        .listener(marking)
        .build();
    for (int i = 0; i < DEPENDENTS; i++) {
      cache.upsert(key(i), repo(i), 1);
    }
    Runnable finishBuilds = () -> {
      scheduler.runAll();
      List<Map.Entry<String, CompletableFuture<Client>>> started = List.copyOf(builds);
      builds.removeAll(started);
      started.forEach(b -> b.getValue().complete(new Client(b.getKey(), repo(0), 0)));
      scheduler.runAll();
    };
    finishBuilds.run();
    cache.dependencyChanged(SECRET);
    finishBuilds.run(); // the canary serves; the first window's three builds start
    scheduler.runAll();
    List<String> inFlight = builds.stream().map(Map.Entry::getKey).toList();
    assertThat(inFlight).hasSize(3);
    marked.clear();

    CompletableFuture<Void> second = cache.dependencyChanged(SECRET);

    assertThat(marked).as("the keys left mid-rebuild, marked again at once")
        .containsExactlyInAnyOrderElementsOf(inFlight);
    for (int i = 0; i < 20 && !second.isDone(); i++) {
      finishBuilds.run();
      scheduler.advance(Duration.ofSeconds(1));
    }
    assertThat(second).isCompleted();
  }

  /**
   * Found by WavePropertyTest (run seed 1954966227978790883): a key whose own build was in flight
   * when the canary failed was held back, then that build, started before the change, served and
   * cleared the canary's error, so the key was held with no error to show for it.
   */
  @Test
  void aHeldKeyWhoseBuildStartedBeforeTheChangeKeepsTheCanarysError() {
    Map<String, List<CompletableFuture<Client>>> builds = new HashMap<>();
    cache = ClientCache.<String, Repo, Client>asyncBuilder((key, spec) -> {
          CompletableFuture<Client> build = new CompletableFuture<>();
          builds.computeIfAbsent(key, k -> new ArrayList<>()).add(build);
          return build;
        })
        .scheduler(scheduler)
        .maxConcurrentBuilds(8)
        .dependsOn(repo -> Set.of(repo.tokenRef()))
        .dependencyWave(Wave.canaryFirst(1).thenAtMost(1, Duration.ofSeconds(1)))
        .listener(marking)
        .build();
    int keys = 3;
    for (int i = 0; i < keys; i++) {
      cache.upsert(key(i), repo(i), 1);
    }
    scheduler.runAll();
    builds.forEach((k, b) -> b.get(0).complete(new Client(k, repo(0), 0)));
    scheduler.runAll();
    for (int i = 0; i < keys; i++) { // every key rebuilds a spec change of its own, before the change
      cache.upsert(key(i), repo(i).withDescription("v2"), 2);
    }
    scheduler.runAll();
    assertThat(builds.values()).allSatisfy(b -> assertThat(b).hasSize(2));

    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    assertThat(marked).hasSize(1);
    String canary = marked.get(0);
    builds.get(canary).get(1).complete(new Client(canary, repo(0), 0)); // superseded by the change
    scheduler.runAll();
    assertThat(builds.get(canary)).as("the canary's build for the change").hasSize(3);
    IOException badToken = new IOException("401: the new token is wrong");
    builds.get(canary).get(2).completeExceptionally(badToken);
    scheduler.runAll();
    assertThat(wave).isCompletedExceptionally();

    builds.forEach((k, b) -> { // the held keys' builds, started before the change, now serve
      if (!k.equals(canary)) {
        b.get(1).complete(new Client(k, repo(0), 0));
      }
    });
    scheduler.runAll();

    assertThat(marked).as("nothing released after the failed canary").containsExactly(canary);
    for (int i = 0; i < keys; i++) {
      if (key(i).equals(canary)) {
        continue;
      }
      Snapshot<String, Repo, Client> s = snapshot(key(i));
      assertThat(s.servedVersion()).as(key(i) + " serves its own spec change").hasValue(2);
      assertThat(s.lastError()).as(key(i) + " is still held: it records the canary's error")
          .containsSame(badToken);
    }
  }

  @Test
  void aSecondChangeAfterAFailedCanaryStartsAFreshWave() {
    start(Wave.canaryFirst(1).thenAtMost(20, Duration.ofSeconds(1)));
    factory.failure = (key, spec) -> new IOException("401");
    CompletableFuture<Void> first = cache.dependencyChanged(SECRET);
    scheduler.runAll();
    assertThat(first).isCompletedExceptionally();
    factory.failure = (key, spec) -> null;
    scheduler.advance(Duration.ofMinutes(5)); // the canary's retry succeeds; the rest stay held
    assertThat(rebuilt()).isEqualTo(1);

    CompletableFuture<Void> second = cache.dependencyChanged(SECRET);
    scheduler.runAll();
    scheduler.runAll();
    assertThat(second).isCompleted();
    assertThat(first).as("a stopped wave's future stays failed").isCompletedExceptionally();
    assertThat(rebuilt()).isEqualTo(1 + DEPENDENTS);
  }

  @Test
  void dependentsDeletedMidWaveAreSkippedAndUseNoToken() {
    start(Wave.canaryFirst(1).thenAtMost(2, Duration.ofSeconds(1)));
    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    String canary = marked.get(0);
    cache.delete(canary, 2); // before its build: neither a success nor a failure
    List<String> others = cache.list().stream().map(Snapshot::key).toList();
    assertThat(others).hasSize(DEPENDENTS - 1);
    scheduler.runAll();
    assertThat(marked).as("the deleted canary does not stop the wave").hasSize(3);
    List<String> pending = others.stream().filter(k -> !marked.contains(k)).toList();
    cache.delete(pending.get(0), 2);
    cache.delete(pending.get(1), 2);
    scheduler.runAll();

    scheduler.advance(Duration.ofSeconds(1));
    assertThat(marked).as("deleted keys use no token: two live ones in the window").hasSize(5);
    scheduler.advance(Duration.ofSeconds(10));

    assertThat(wave).isCompleted();
    assertThat(factory.calls(canary)).isEqualTo(1);
    assertThat(factory.calls(pending.get(0))).isEqualTo(1);
    assertThat(marked).hasSize(DEPENDENTS - 2);
  }

  @Test
  void aRebuiltDependentDeletedBeforeItServesCountsAsSettled() {
    start(Wave.canaryFirst(1));
    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    scheduler.runAll();
    String released = marked.get(marked.size() - 1);
    cache.delete(released, 2); // its build is queued, not run
    scheduler.runAll();
    assertThat(wave).isCompleted();
  }

  @Test
  void aFailedBuildAfterTheCanariesFailsTheFutureButNotTheWave() {
    start(Wave.canaryFirst(1).thenAtMost(3, Duration.ofSeconds(1)));
    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    String canary = marked.get(0);
    IOException broken = new IOException("one repository is down");
    factory.failure = (key, spec) -> key.equals(canary) ? null : broken;
    scheduler.runAll();
    scheduler.runAll();
    factory.failure = (key, spec) -> key.equals(canary) || marked.size() > 4 ? null : broken;
    scheduler.advance(Duration.ofSeconds(5));

    assertThat(marked).as("the wave went on").hasSize(DEPENDENTS);
    assertThat(wave).isCompletedExceptionally();
    assertThatThrownBy(wave::join).cause().isSameAs(broken);
  }

  @Test
  void closingTheCacheMidWaveFailsItsFuture() {
    start(Wave.canaryFirst(1).thenAtMost(1, Duration.ofSeconds(1)));
    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    scheduler.runAll();
    scheduler.runAll();
    int reached = marked.size();
    cache.close();
    scheduler.advance(Duration.ofSeconds(10));

    assertThat(wave).isCompletedExceptionally();
    assertThatThrownBy(wave::join).hasCauseInstanceOf(IllegalStateException.class)
        .hasMessageContaining("repositories is closed");
    assertThat(marked).hasSize(reached);
  }

  @Test
  void aSourcesDependencyEventRunsAsAWave() {
    start(Wave.canaryFirst(1).thenAtMost(4, Duration.ofSeconds(1)));
    source.dependencyChanged(SECRET);
    assertThat(marked).hasSize(1);
    scheduler.runAll();
    assertThat(marked).hasSize(5);
    scheduler.advance(Duration.ofSeconds(2));
    assertThat(marked).hasSize(DEPENDENTS);
  }

  @Test
  void aChangedKeyOfTheCacheRebuildsItsDependentsAsAWave() {
    start(Wave.canaryFirst(1).thenAtMost(4, Duration.ofSeconds(1)));
    cache.upsert(SECRET, new Repo("https://vault.example"), 1);
    scheduler.runAll();
    int before = marked.size();
    cache.upsert(SECRET, new Repo("https://vault.example/rotated"), 2);
    assertThat(marked).hasSize(before + 1);
    scheduler.runAll();
    scheduler.advance(Duration.ofSeconds(2));
    assertThat(marked).hasSize(before + DEPENDENTS);
  }

  @Test
  void aWaveWithoutCanariesKeepsTheRateFromTheStart() {
    start(Wave.all().thenAtMost(4, Duration.ofSeconds(1)));
    CompletableFuture<Void> wave = cache.dependencyChanged(SECRET);
    assertThat(marked).hasSize(4);
    scheduler.runAll();
    assertThat(marked).hasSize(4);
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(marked).hasSize(8);
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(wave).isCompleted();
  }

  @Test
  void aDependencyNobodyReadsCompletesAtOnceAndLeavesNoWave() {
    start(Wave.canaryFirst(3).thenAtMost(1, Duration.ofSeconds(1)));
    assertThat(cache.dependencyChanged("nothing")).isCompleted();
    scheduler.runAll();
    assertThat(marked).isEmpty();
  }

  private Client served(String key) {
    try (var lease = cache.acquireAsync(key, 0).join()) {
      return lease.get();
    }
  }
}
