package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.Change;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientCacheBuilder;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.Reconfigurer;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.TimersFromTheCall;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attack on reconfiguring in place, public API only. Promises: Reconfigurer "client: the served
 * client, leased for the call"; C6 "a replaced or removed client is released exactly once, after
 * the last lease on it closes; never while leased"; C13 "a ClientLease's version() is the version
 * its client reflects, so leases say the new version" and "If the reconfigurer throws, times out,
 * or none is configured, the cache rebuilds instead"; RECONFIGURE_SUPERSEDED "the same client
 * serves the spec it was reconfigured to, and a build of the newest spec is wanted".
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReconfigureAttackTest {
  /**
   * A spec: {@code url} is built in, {@code token} can be swapped into a live client; {@code v}
   * is the version it is upserted at, so a client knows which version it reflects.
   */
  record Spec(String url, String token, long v) { }

  /** A client whose token the reconfigurer swaps atomically; it counts its closes. */
  static final class Live implements AutoCloseable {
    final Spec builtFrom;
    volatile Spec reflects;
    final AtomicInteger closes = new AtomicInteger();
    final CompletableFuture<Void> closed = new CompletableFuture<>();

    Live(Spec spec) {
      this.builtFrom = spec;
      this.reflects = spec;
    }

    long version() {
      return reflects.v();
    }

    boolean isClosedNow() {
      return closes.get() > 0;
    }

    @Override
    public void close() {
      closes.incrementAndGet();
      closed.complete(null);
    }
  }

  private static final ChangePolicy TOKEN_ONLY = new ChangePolicy();

  /** Same url, other token: RECONFIGURE; another url: REBUILD. */
  static final class ChangePolicy implements dev.statewright.cache.ChangePolicy<Spec> {
    @Override
    public Change classify(Spec previous, Spec next) {
      if (previous.equals(next)) {
        return Change.NONE;
      }
      return previous.url().equals(next.url()) ? Change.RECONFIGURE : Change.REBUILD;
    }
  }

  private final Threads threads = new Threads();
  private final Queue<Live> built = new ConcurrentLinkedQueue<>();
  private ClientCache<String, Spec, Live> cache;

  @AfterEach
  void tearDown() {
    if (cache != null) {
      cache.close();
    }
    threads.close();
  }

  private volatile Runnable callStarts = () -> { }; // told first thing by every factory call

  private ClientCacheBuilder<String, Spec, Live> builder(Reconfigurer<Spec, Live> reconfigurer) {
    return ClientCache.<String, Spec, Live>builder((key, spec) -> {
      callStarts.run();
      Live live = new Live(spec);
      built.add(live);
      return live;
    }).name("attack-reconfigure").scheduler(threads).changePolicy(TOKEN_ONLY)
        .backoff(Backoff.fixed(Duration.ofMillis(5))).reconfigure(reconfigurer);
  }

  private static Reconfigurer<Spec, Live> blockingUntil(CountDownLatch release,
      CountDownLatch entered, AtomicBoolean sawClosed) {
    return (client, spec) -> {
      entered.countDown();
      boolean interrupted = false;
      while (true) { // uninterruptibly: an abandoned reconfigurer may run on after its timeout
        try {
          release.await();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      if (client.isClosedNow()) {
        sawClosed.set(true);
      }
      client.reflects = spec;
    };
  }

  @Test
  void aReconfigurerAbandonedOnTheBuildTimeoutStillHasItsClientUntilItReturns() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    AtomicBoolean sawClosed = new AtomicBoolean();
    // 100 ms from the start of each factory or reconfigurer call: on a loaded machine the worker
    // may start a call after 100 ms from its build's or reconfigure's start
    TimersFromTheCall timers = new TimersFromTheCall(threads);
    callStarts = timers::callStarts;
    Reconfigurer<Spec, Live> blocking = blockingUntil(release, entered, sawClosed);
    cache = builder((client, spec) -> {
      timers.callStarts();
      blocking.reconfigure(client, spec);
    }).scheduler(timers).buildTimeout(Duration.ofMillis(100)).build();
    await(cache.upsert("k", new Spec("https://a", "t1", 1), 1));
    Live first = built.peek();

    Snapshot<String, Spec, Live> served =
        await(cache.upsert("k", new Spec("https://a", "t2", 2), 2));
    // the reconfigurer timed out and the cache rebuilt; the reconfigurer still runs on `first`
    assertThat(entered.await(0, TimeUnit.SECONDS)).isTrue();
    assertThat(served.servedVersion()).hasValue(2);
    try (ClientLease<Live> now = cache.acquire("k")) {
      assertThat(now.get()).isNotSameAs(first);
    }
    assertThat(first.closes).as("closed while its reconfigurer still runs").hasValue(0);
    release.countDown();
    await(first.closed);
    assertThat(sawClosed).isFalse();
    assertThat(first.closes).hasValue(1);
  }

  @Test
  void closingTheCacheWhileAReconfigurerRunsClosesItsClientOnlyAfterIt() throws Exception {
    removingWhileAReconfigurerRunsClosesItsClientOnlyAfterIt(() -> cache.close());
  }

  @Test
  void deletingTheKeyWhileAReconfigurerRunsClosesItsClientOnlyAfterIt() throws Exception {
    removingWhileAReconfigurerRunsClosesItsClientOnlyAfterIt(() -> await(cache.delete("k", 3)));
  }

  /** What removes the key while its reconfigurer runs: the cache's close, or a delete. */
  @FunctionalInterface
  private interface Removal {
    void run() throws Exception;
  }

  private void removingWhileAReconfigurerRunsClosesItsClientOnlyAfterIt(Removal removal)
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    AtomicBoolean sawClosed = new AtomicBoolean();
    cache = builder(blockingUntil(release, entered, sawClosed)).build();
    await(cache.upsert("k", new Spec("https://a", "t1", 1), 1));
    Live first = built.peek();
    CompletableFuture<?> reconfigured = cache.upsert("k", new Spec("https://a", "t2", 2), 2);
    assertThat(entered.await(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

    removal.run();

    assertThat(first.closes).as("closed while its reconfigurer still runs").hasValue(0);
    release.countDown();
    await(first.closed);
    assertThat(sawClosed).isFalse();
    reconfigured.handle((s, e) -> null).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(first.closes).hasValue(1);
  }

  @Test
  void aLeaseSaysTheVersionItsClientReflectsAfterAFailedAndASupersededReconfigure()
      throws Exception {
    AtomicBoolean fail = new AtomicBoolean(true);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    cache = builder((client, spec) -> {
      if (fail.get()) {
        throw new IllegalStateException("token rejected");
      }
      entered.countDown();
      release.await();
      client.reflects = spec;
    }).build();
    await(cache.upsert("k", new Spec("https://a", "t1", 1), 1));
    ClientLease<Live> v1 = cache.acquire("k");

    await(cache.upsert("k", new Spec("https://a", "t2", 2), 2)); // fails: a rebuild instead
    assertThat(v1.version()).as("the client still reflects v1").isEqualTo(1);
    assertThat(v1.get().reflects.token()).isEqualTo("t1");
    assertThat(v1.isCurrent()).isFalse();
    assertThat(v1.superseded().toCompletableFuture()).isCompletedWithValue(null);

    fail.set(false);
    ClientLease<Live> v2 = cache.acquire("k");
    assertThat(v2.version()).isEqualTo(2);
    CompletableFuture<?> v3 = cache.upsert("k", new Spec("https://a", "t3", 3), 3);
    assertThat(entered.await(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    CompletableFuture<?> v4 = cache.upsert("k", new Spec("https://b", "t3", 4), 4); // a rebuild
    release.countDown();
    await(v3);
    await(v4);
    assertThat(v2.get().reflects.token()).isEqualTo("t3");
    assertThat(v2.version()).as("the client was reconfigured to v3").isEqualTo(3);
    assertThat(v2.isCurrent()).isFalse();
    try (ClientLease<Live> now = cache.acquire("k")) {
      assertThat(now.version()).isEqualTo(4);
      assertThat(now.get().builtFrom.url()).isEqualTo("https://b");
    }
    Live first = v1.get();
    v1.close();
    v2.close();
    await(first.closed);
  }

  @Test
  void aReconfigurerThatReadsItsOwnKeyOrUpsertsItFallsBackWithoutStalling() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    AtomicReference<ClientCache<String, Spec, Live>> self = new AtomicReference<>();
    cache = builder((client, spec) -> {
      if (calls.incrementAndGet() == 1) {
        self.get().acquire("k").close(); // strict: waits for this very call, then times out
        client.reflects = spec;
      } else {
        self.get().upsert("k", new Spec("https://c", spec.token(), 10), 10); // built after this returns
        client.reflects = spec;
      }
    }).acquireTimeout(Duration.ofMillis(200)).build();
    self.set(cache);
    await(cache.upsert("k", new Spec("https://a", "t1", 1), 1));
    Snapshot<String, Spec, Live> s = await(cache.upsert("k", new Spec("https://a", "t2", 2), 2));
    assertThat(s.servedSpec()).contains(new Spec("https://a", "t2", 2));
    await(cache.upsert("k", new Spec("https://a", "t3", 3), 3));
    await(cache.acquireAsync("k", 10)).close();
    assertThat(cache.snapshot("k").orElseThrow().servedSpec())
        .contains(new Spec("https://c", "t3", 10));
    cache.close();
    CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
        .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(built).allSatisfy(c -> assertThat(c.closes).hasValue(1));
  }

  /**
   * Readers acquire and hold leases while token changes (reconfigures) and url changes (rebuilds)
   * arrive. A lease is never ahead of the client it holds; once quiet, every lease on the served
   * client says the version the client reflects, which is the listing's.
   */
  @Test
  void leasesNeverDisagreeWithTheirClientUnderRacingReconfigures() throws Exception {
    SplittableRandom seeds = Seeds.random("leasesNeverDisagreeWithTheirClient");
    cache = builder((client, spec) -> {
      if (spec.token().endsWith("!")) {
        throw new IllegalStateException("rejected " + spec.token());
      }
      client.reflects = spec;
    }).build();
    Queue<String> found = new ConcurrentLinkedQueue<>();
    for (int round = 0; round < 20; round++) {
      SplittableRandom random = seeds.split();
      String key = "k" + round;
      await(cache.upsert(key, new Spec("u0", "t0", 1), 1));
      String url = "u0";
      AtomicBoolean stop = new AtomicBoolean();
      Queue<ClientLease<Live>> held = new ConcurrentLinkedQueue<>();
      List<CompletableFuture<Void>> readers = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        readers.add(CompletableFuture.runAsync(() -> {
          while (!stop.get()) {
            ClientLease<Live> lease = cache.acquire(key);
            long leaseVersion = lease.version();
            long clientVersion = lease.get().version();
            if (leaseVersion > clientVersion) {
              found.add(key + ": lease says v" + leaseVersion + ", its client reflects v"
                  + clientVersion);
            }
            held.add(lease);
            if (held.size() > 4) {
              ClientLease<Live> old = held.poll();
              if (old != null) {
                old.close();
              }
            }
          }
        }, threads::execute));
      }
      long v = 1;
      List<CompletableFuture<?>> writes = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        v++;
        int kind = random.nextInt(4);
        url = kind == 0 ? "u" + v : url;
        Spec spec = new Spec(url, "t" + v + (kind == 1 ? "!" : ""), v);
        writes.add(cache.upsert(key, spec, v));
        if (random.nextBoolean()) {
          writes.get(writes.size() - 1).handle((s, e) -> null)
              .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
        }
      }
      CompletableFuture.allOf(writes.stream().map(w -> w.handle((s, e) -> null))
          .toArray(CompletableFuture[]::new)).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      await(cache.acquireAsync(key, v)).close();
      stop.set(true);
      CompletableFuture.allOf(readers.toArray(CompletableFuture[]::new))
          .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      Snapshot<String, Spec, Live> quiet = cache.snapshot(key).orElseThrow();
      for (ClientLease<Live> lease : held) {
        if (lease.isCurrent()) {
          if (lease.version() != quiet.servedVersion().orElseThrow()
              || lease.get().version() != lease.version()) {
            found.add(key + ": a current lease says v" + lease.version() + ", its client v"
                + lease.get().version() + ", the listing v" + quiet.servedVersion());
          }
        }
        lease.close();
      }
    }
    assertThat(found).isEmpty();
    cache.close();
    CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
        .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(built).allSatisfy(c -> assertThat(c.closes).hasValue(1));
  }
}
