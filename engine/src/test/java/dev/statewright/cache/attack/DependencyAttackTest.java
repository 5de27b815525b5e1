package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientCacheBuilder;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.testing.Seeds;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attack on dependencies, public API only. Promises: C9 "an entry may depend on other things (the
 * Secret holding its token, or another key of the cache): a change to one makes every dependent
 * STALE and rebuilds it"; dependencyChanged "completes when all of them serve a client built after
 * this call"; Liveness "a spec whose equals, change policy or dependsOn throws is recorded as its
 * key's lastError" and "The dependency index holds only live keys"; C6.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DependencyAttackTest {
  /** A spec naming what it reads. */
  record Spec(long v, List<Object> reads) {
    Spec(long v, Object... reads) {
      this(v, Arrays.asList(reads));
    }
  }

  /** A client: its key, spec, the secret it read when built, and its closes. */
  static final class Client implements AutoCloseable {
    final String key;
    final Spec spec;
    final long secret;
    final AtomicInteger closes = new AtomicInteger();
    final CompletableFuture<Void> closed = new CompletableFuture<>();

    Client(String key, Spec spec, long secret) {
      this.key = key;
      this.spec = spec;
      this.secret = secret;
    }

    @Override
    public void close() {
      closes.incrementAndGet();
      closed.complete(null);
    }
  }

  /**
   * Single-threaded, like ManualScheduler, but {@link #drain} runs a bounded number of tasks, so
   * a cache that keeps making work for itself is caught instead of hanging the test.
   */
  static final class Steps implements Scheduler {
    private final Queue<Runnable> ready = new ArrayDeque<>();
    private long now = 5_000_000_000L;

    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public void execute(Runnable task) {
      ready.add(task);
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      return () -> { }; // timers (timeouts, retries) never fire here
    }

    /** Runs ready tasks; false if more than {@code bound} ran and work remains. */
    boolean drain(int bound) {
      for (int ran = 0; ran < bound; ran++) {
        Runnable task = ready.poll();
        if (task == null) {
          return true;
        }
        task.run();
      }
      return ready.isEmpty();
    }
  }

  private final AtomicLong secret = new AtomicLong(1);
  private final Queue<Client> built = new ConcurrentLinkedQueue<>();
  private final Map<String, AtomicInteger> builds = new ConcurrentHashMap<>();
  private ClientCache<String, Spec, Client> cache;
  private Threads threads;

  @AfterEach
  void tearDown() {
    if (cache != null) {
      cache.close();
    }
    if (threads != null) {
      threads.close();
    }
  }

  private ClientCacheBuilder<String, Spec, Client> builder(Scheduler scheduler,
      Function<Spec, Collection<?>> dependsOn) {
    return ClientCache.<String, Spec, Client>builder((key, spec) -> {
      Client c = new Client(key, spec, secret.get());
      built.add(c);
      builds.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      return c;
    }).name("attack-deps").scheduler(scheduler).dependsOn(dependsOn::apply);
  }

  private int buildsOf(String key) {
    AtomicInteger n = builds.get(key);
    return n == null ? 0 : n.get();
  }

  private Snapshot<String, Spec, Client> snapshot(String key) {
    return cache.snapshot(key).orElseThrow();
  }

  @Test
  void aKeyThatDependsOnItselfOrOnACycleRebuildsABoundedNumberOfTimes() {
    Steps steps = new Steps();
    cache = builder(steps, Spec::reads).build();
    cache.upsert("self", new Spec(1, "self"), 1);
    assertThat(steps.drain(1_000)).as("quiet after the first upsert of a self-dependent").isTrue();
    cache.upsert("self", new Spec(2, "self"), 2);
    assertThat(steps.drain(1_000)).as("quiet after its second upsert").isTrue();
    assertThat(buildsOf("self")).as("at most two builds per upsert").isBetween(2, 4);
    assertThat(snapshot("self").servedVersion()).hasValue(2);

    cache.upsert("a", new Spec(1, "b"), 1);
    cache.upsert("b", new Spec(1, "a"), 1);
    assertThat(steps.drain(1_000)).as("quiet after a cycle a <-> b formed").isTrue();
    int a = buildsOf("a");
    int b = buildsOf("b");
    cache.upsert("a", new Spec(2, "b"), 2);
    assertThat(steps.drain(1_000)).as("quiet after a change inside the cycle").isTrue();
    assertThat(buildsOf("a") - a).isBetween(1, 2);
    assertThat(buildsOf("b") - b).isBetween(1, 2);
    CompletableFuture<Void> wave = cache.dependencyChanged("a");
    assertThat(steps.drain(1_000)).as("quiet after dependencyChanged(a) in the cycle").isTrue();
    assertThat(wave).isCompleted();
    assertThat(snapshot("a").state()).isEqualTo(EntryState.CURRENT);
    assertThat(snapshot("b").state()).isEqualTo(EntryState.CURRENT);
  }

  @Test
  void deletingAndReAddingTheSecretKeyRebuildsItsDependentEachTime() {
    Steps steps = new Steps();
    cache = builder(steps, Spec::reads).build();
    cache.upsert("secret", new Spec(1), 1);
    cache.upsert("repo", new Spec(1, "secret"), 1);
    assertThat(steps.drain(1_000)).isTrue();
    long generation = snapshot("repo").generation();

    cache.delete("secret", 2);
    assertThat(steps.drain(1_000)).isTrue();
    assertThat(snapshot("repo").generation()).as("after the secret's delete")
        .isEqualTo(generation + 1);

    cache.upsert("secret", new Spec(3), 3);
    assertThat(steps.drain(1_000)).isTrue();
    assertThat(snapshot("repo").generation()).as("after the secret's re-add")
        .isEqualTo(generation + 2);
    assertThat(snapshot("repo").state()).isEqualTo(EntryState.CURRENT);
  }

  /**
   * What dependsOn returns is the user's: it may hand out a list it changes later, or answer
   * differently when asked again. The index must hold only live keys either way.
   */
  @Test
  void theIndexForgetsADeletedKeyWhateverItsDependsOnDoesAfterwards() {
    Steps steps = new Steps();
    AtomicInteger asked = new AtomicInteger();
    List<List<Object>> handedOut = new ArrayList<>();
    cache = builder(steps, spec -> {
      if (spec.reads().contains("mutable")) {
        List<Object> mine = new ArrayList<>(List.of("secret-m"));
        handedOut.add(mine);
        return mine;
      }
      if (spec.reads().contains("moody")) {
        return List.of("secret-" + asked.incrementAndGet()); // a new answer each time
      }
      return spec.reads();
    }).build();
    cache.upsert("m", new Spec(1, "mutable"), 1);
    cache.upsert("d", new Spec(1, "moody"), 1);
    assertThat(steps.drain(1_000)).isTrue();
    assertThat(cache.footprint().dependencyIndexSize()).isPositive();
    handedOut.forEach(l -> l.replaceAll(x -> "something-else"));

    cache.upsert("d", new Spec(2, "moody"), 2);
    cache.upsert("m", new Spec(2, "mutable"), 2);
    assertThat(steps.drain(1_000)).isTrue();
    handedOut.forEach(List::clear);
    cache.delete("m", 3);
    cache.delete("d", 3);
    assertThat(steps.drain(1_000)).isTrue();

    assertThat(cache.footprint().dependencyIndexSize()).as("index entries of deleted keys")
        .isZero();
  }

  /** An upsert as a future, even if the call itself throws (which it should not). */
  private CompletableFuture<?> upsertNoting(String key, Spec spec, long version,
      List<String> problems) {
    try {
      return cache.upsert(key, spec, version);
    } catch (RuntimeException thrown) {
      problems.add("upsert(" + key + ") threw " + thrown + " instead of returning a future");
      return CompletableFuture.failedFuture(thrown);
    }
  }

  /**
   * dependsOn may return a null element, or one whose hashCode or equals throws (user code, as a
   * spec's equals is): the upsert returns a future (failed with the error recorded, or refused
   * with IllegalArgumentException for a new key, or served), the key is not left stuck, other keys
   * are unaffected, the dependency's next change settles, and the index ends clean.
   */
  private List<String> hostileDependency(Object element) {
    Steps steps = new Steps();
    cache = builder(steps, Spec::reads).build();
    List<String> problems = new ArrayList<>();
    upsertNoting("fine", new Spec(1, "secret"), 1, problems);
    CompletableFuture<?> f = upsertNoting("hostile", new Spec(1, "secret", element), 1, problems);
    if (!steps.drain(1_000)) {
      problems.add("still busy after the upserts");
    }
    Snapshot<String, Spec, Client> s = cache.snapshot("hostile").orElse(null);
    Throwable failure = f.handle((v, e) -> e).join();
    if (s == null) {
      if (!(failure instanceof IllegalArgumentException)) {
        problems.add("no entry after its upsert, which ended with " + failure);
      }
    } else if (!f.isDone()) {
      problems.add("its upsert never completed, " + s);
    } else if (failure != null && s.lastError().isEmpty()) {
      problems.add("its upsert failed (" + failure + ") but nothing is recorded, " + s);
    } else if (failure == null && s.state() != EntryState.CURRENT) {
      problems.add("its upsert completed but it is " + s);
    }
    if (snapshot("fine").state() != EntryState.CURRENT) {
      problems.add("fine: " + snapshot("fine"));
    }
    CompletableFuture<Void> wave;
    try {
      wave = cache.dependencyChanged("secret");
    } catch (RuntimeException thrown) {
      problems.add("dependencyChanged(secret) threw " + thrown);
      wave = CompletableFuture.failedFuture(thrown);
    }
    if (!steps.drain(1_000) || !wave.isDone()) {
      problems.add("dependencyChanged(secret) never settles; hostile is "
          + cache.snapshot("hostile").map(Object::toString).orElse("absent"));
    }
    if (snapshot("fine").generation() != 2) {
      problems.add("fine was not rebuilt once for the secret: " + snapshot("fine"));
    }
    for (String key : List.of("fine", "hostile")) {
      try {
        cache.delete(key, 2);
      } catch (RuntimeException thrown) {
        problems.add("delete(" + key + ") threw " + thrown);
      }
    }
    steps.drain(1_000);
    if (cache.footprint().dependencyIndexSize() != 0) {
      problems.add("index entries of deleted keys: " + cache.footprint());
    }
    cache.close();
    steps.drain(1_000);
    built.stream().filter(c -> c.closes.get() != 1)
        .forEach(c -> problems.add(c.key + "'s client closed " + c.closes + " times"));
    return problems;
  }

  @Test
  void aNullDependencyIsRefusedOrRecordedAndStallsNothing() {
    assertThat(hostileDependency(null)).isEmpty();
  }

  @Test
  void aDependencyWhoseHashCodeThrowsIsRecordedAndStallsNothing() {
    assertThat(hostileDependency(new Object() {
      @Override
      public int hashCode() {
        throw new IllegalStateException("hashCode");
      }

      @Override
      public boolean equals(Object o) {
        throw new IllegalStateException("equals");
      }
    })).isEmpty();
  }

  @Test
  void tenThousandDependentsOfOneSecretAreEachRebuiltOncePerChange() throws Exception {
    threads = new Threads();
    cache = builder(threads, Spec::reads).maxConcurrentBuilds(8).build();
    int n = 10_000;
    List<CompletableFuture<?>> upserts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      upserts.add(cache.upsert("repo-" + i, new Spec(1, "secret"), 1));
    }
    CompletableFuture.allOf(upserts.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    List<ClientLease<Client>> leases = new ArrayList<>();
    AtomicInteger told = new AtomicInteger();
    for (int i = 0; i < n; i += 10) {
      ClientLease<Client> lease = cache.acquire("repo-" + i);
      lease.superseded().thenRun(told::incrementAndGet);
      leases.add(lease);
    }
    for (int change = 2; change <= 3; change++) {
      secret.set(change);
      cache.dependencyChanged("secret").get(120, TimeUnit.SECONDS);
      List<Snapshot<String, Spec, Client>> listed = cache.list();
      assertThat(listed).hasSize(n);
      for (Snapshot<String, Spec, Client> s : listed) {
        assertThat(s.generation()).as(s.key()).isEqualTo(change);
        assertThat(s.state()).isEqualTo(EntryState.CURRENT);
      }
      for (int i = 0; i < n; i += 997) {
        try (ClientLease<Client> now = cache.acquire("repo-" + i)) {
          assertThat(now.get().secret).isEqualTo(change);
        }
      }
    }
    assertThat(built).hasSize(3 * n);
    assertThat(told).hasValue(leases.size());
    leases.forEach(ClientLease::close);
    cache.close();
    CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
        .get(60, TimeUnit.SECONDS);
    assertThat(built).allSatisfy(c -> assertThat(c.closes).hasValue(1));
  }

  /**
   * The secret changes (set, then dependencyChanged) while the dependents' own specs change. Once
   * every future is done, every dependent serves a client that read the last secret, and no
   * dependent was built more often than once per change that concerned it, plus one.
   */
  @Test
  void secretChangesRacingTheDependentsOwnChangesLeaveEveryoneWithTheLastSecret()
      throws Exception {
    SplittableRandom seeds = Seeds.random("secretChangesRacingTheDependents");
    threads = new Threads();
    cache = builder(threads, Spec::reads).maxConcurrentBuilds(3).build();
    for (int round = 0; round < 10; round++) {
      SplittableRandom random = seeds.split();
      int keys = 2 + random.nextInt(6);
      List<String> names = new ArrayList<>();
      for (int i = 0; i < keys; i++) {
        names.add("r" + round + "-" + i);
        await(cache.upsert(names.get(i), new Spec(1, "secret"), 1));
      }
      builds.clear();
      int secretChanges = 1 + random.nextInt(5);
      int ownChanges = 1 + random.nextInt(5);
      long seedA = random.nextLong();
      long seedB = random.nextLong();
      CompletableFuture<List<CompletableFuture<Void>>> secretWriter =
          CompletableFuture.supplyAsync(() -> {
            SplittableRandom r = new SplittableRandom(seedA);
            List<CompletableFuture<Void>> waves = new ArrayList<>();
            for (int c = 0; c < secretChanges; c++) {
              secret.incrementAndGet();
              waves.add(cache.dependencyChanged("secret"));
              if (r.nextBoolean()) {
                Thread.yield();
              }
            }
            return waves;
          }, threads::execute);
      CompletableFuture<List<CompletableFuture<?>>> specWriter =
          CompletableFuture.supplyAsync(() -> {
        SplittableRandom r = new SplittableRandom(seedB);
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (int c = 0; c < ownChanges; c++) {
          for (String name : names) {
            if (r.nextBoolean()) {
              writes.add(cache.upsert(name, new Spec(2 + c, "secret"), 2 + c));
            }
          }
        }
        return writes;
      }, threads::execute);
      List<CompletableFuture<?>> all = new ArrayList<>(await(secretWriter));
      all.addAll(await(specWriter));
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      long last = secret.get();
      for (String name : names) {
        try (ClientLease<Client> now = cache.acquire(name)) {
          assertThat(now.get().secret).as("round " + round + ": " + name + "'s secret")
              .isEqualTo(last);
        }
        assertThat(buildsOf(name)).as("round " + round + ": builds of " + name)
            .isLessThanOrEqualTo(secretChanges + ownChanges + 1);
      }
    }
    cache.close();
    CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
        .get(60, TimeUnit.SECONDS);
    assertThat(built).allSatisfy(c -> assertThat(c.closes).hasValue(1));
  }

  @Test
  void aDependencyChangeAfterOrDuringCloseSettles() throws Exception {
    threads = new Threads();
    AtomicReference<CompletableFuture<Void>> during = new AtomicReference<>();
    cache = builder(threads, Spec::reads).build();
    await(cache.upsert("repo", new Spec(1, "secret"), 1));
    CompletableFuture<Void> racing = CompletableFuture.runAsync(
        () -> during.set(cache.dependencyChanged("secret")), threads::execute);
    cache.close();
    racing.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    CompletableFuture<Void> after = cache.dependencyChanged("secret");
    during.get().handle((v, e) -> null).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    after.handle((v, e) -> null).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
        .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(built).allSatisfy(c -> assertThat(c.closes).hasValue(1));
  }
}
