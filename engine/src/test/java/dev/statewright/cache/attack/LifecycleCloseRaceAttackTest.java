package dev.statewright.cache.attack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.Wave;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.cache.attack.ReconfigureAttackTest.Live;
import dev.statewright.cache.attack.ReconfigureAttackTest.Spec;
import dev.statewright.testing.Seeds;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every lifecycle feature at once, racing close(): clients that expire and refresh in real time
 * (lifetimes of a few milliseconds), token changes reconfigured in place (some rejected), url
 * changes rebuilt, invalidations and reports from holders, dependency changes in canary waves,
 * and the cache closed from another thread at a random moment. Promises: "close() is atomic with
 * every entry point: after it returns no entry is live, and every client built is closed exactly
 * once (after its last lease, if one is still open)"; C6; C10 (every lease told exactly once);
 * Liveness (every future settles).
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LifecycleCloseRaceAttackTest {
  private static final int KEYS = 4;

  @Test
  void closeRacingExpiryReconfigureReportsAndWavesLeaksNothingAndTellsEveryLeaseOnce()
      throws Exception {
    SplittableRandom seeds = Seeds.random("closeRacingExpiryReconfigureReportsAndWaves");
    for (int round = 0; round < 12; round++) {
      runRound(round, seeds.split());
    }
  }

  private record Told(ClientLease<Live> lease, AtomicInteger count) { }

  private void runRound(int round, SplittableRandom random) throws Exception {
    Queue<Live> built = new ConcurrentLinkedQueue<>();
    Queue<String> problems = new ConcurrentLinkedQueue<>();
    Map<Live, Integer> open = new IdentityHashMap<>();
    Queue<Told> told = new ConcurrentLinkedQueue<>();
    Queue<CompletableFuture<?>> futures = new ConcurrentLinkedQueue<>();
    long lifetimeMillis = 1 + random.nextInt(20);
    try (Threads threads = new Threads()) {
      ClientCache<String, Spec, Live> cache = ClientCache.<String, Spec, Live>builder(
          (key, spec) -> {
            Live live = new Live(spec);
            built.add(live);
            return live;
          }).name("attack-close-race").scheduler(threads)
          .changePolicy(new ReconfigureAttackTest.ChangePolicy())
          .backoff(Backoff.fixed(Duration.ofMillis(1)))
          .maxConcurrentBuilds(2)
          .expiry((spec, client) -> Duration.ofMillis(lifetimeMillis))
          .dependsOn(spec -> List.of("secret"))
          .dependencyWave(Wave.canaryFirst(1).thenAtMost(1, Duration.ofMillis(1)))
          .reconfigure((client, spec) -> {
            if (spec.token().endsWith("!")) {
              throw new IllegalStateException("rejected");
            }
            client.reflects = spec;
          })
          .closer(c -> {
            synchronized (open) {
              Integer n = open.get(c);
              if (n != null && n != 0) {
                problems.add("closed with " + n + " leases open");
              }
            }
            c.close();
          }).build();
      AtomicBoolean stop = new AtomicBoolean();
      List<CompletableFuture<Void>> holders = new ArrayList<>();
      for (int h = 0; h < 2; h++) {
        long seed = random.nextLong();
        holders.add(CompletableFuture.runAsync(() -> {
          SplittableRandom r = new SplittableRandom(seed);
          List<ClientLease<Live>> mine = new ArrayList<>();
          while (!stop.get()) {
            String key = "k" + r.nextInt(KEYS);
            CompletableFuture<ClientLease<Live>> f = cache.acquireAsync(key);
            ClientLease<Live> lease;
            try {
              lease = f.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException stuck) {
              problems.add("acquireAsync(" + key + ") never settled");
              break;
            } catch (Exception gone) {
              continue; // never seen yet, removed, closed, or its build failed
            }
            synchronized (open) {
              open.merge(lease.get(), 1, Integer::sum);
            }
            Told t = new Told(lease, new AtomicInteger());
            told.add(t);
            lease.superseded().thenRun(t.count()::incrementAndGet);
            mine.add(lease);
            if (r.nextInt(5) == 0) {
              lease.reportFailure(new IllegalStateException("401"));
            }
            if (mine.size() > 3) {
              release(mine.remove(r.nextInt(mine.size())), open);
            }
          }
          mine.forEach(l -> release(l, open));
        }, threads::execute));
      }
      long[] versions = new long[KEYS];
      String[] urls = new String[KEYS];
      int closeAt = random.nextInt(80);
      CompletableFuture<Void> closing = null;
      for (int op = 0; op < 80; op++) {
        if (op == closeAt) {
          closing = CompletableFuture.runAsync(cache::close, threads::execute);
        }
        int k = random.nextInt(KEYS);
        String key = "k" + k;
        try {
          switch (random.nextInt(6)) {
            case 0, 1 -> {
              urls[k] = "u" + (++versions[k]);
              futures.add(cache.upsert(key, new Spec(urls[k], "t", versions[k]), versions[k]));
            }
            case 2 -> {
              if (urls[k] != null) {
                long v = ++versions[k];
                futures.add(cache.upsert(key, new Spec(urls[k], "t" + v
                    + (random.nextInt(3) == 0 ? "!" : ""), v), v));
              }
            }
            case 3 -> futures.add(cache.dependencyChanged("secret"));
            case 4 -> cache.invalidate(key, new IllegalStateException("refused"));
            default -> {
              if (random.nextInt(4) == 0) {
                futures.add(cache.delete(key, ++versions[k]));
                urls[k] = null;
              }
            }
          }
        } catch (RuntimeException refused) {
          // NoSuchElementException from invalidate of an unknown key, or the cache closed
        }
      }
      if (closing == null) {
        cache.close();
      } else {
        closing.get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      }
      stop.set(true);
      CompletableFuture.allOf(holders.toArray(CompletableFuture[]::new))
          .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      for (CompletableFuture<?> f : futures) {
        try {
          f.handle((v, e) -> null).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException stuck) {
          problems.add("a future never settled after close: " + f);
        }
      }
      for (Told t : told) {
        try {
          t.lease().superseded().toCompletableFuture().get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException stuck) {
          problems.add("a lease never told, round " + round);
        }
        if (t.count().get() != 1) {
          problems.add("a lease told " + t.count() + " times, round " + round);
        }
      }
      CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
          .handle((v, e) -> null).get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
      built.stream().filter(c -> c.closes.get() != 1).forEach(c ->
          problems.add("round " + round + ": a client built from v" + c.builtFrom.v()
              + " closed " + c.closes + " times"));
      assertThat(cache.list()).as("round " + round + ": live entries after close").isEmpty();
      assertThat(problems).as("round " + round + ", lifetime " + lifetimeMillis + " ms").isEmpty();
    }
  }

  private static void release(ClientLease<Live> lease, Map<Live, Integer> open) {
    synchronized (open) {
      open.merge(lease.get(), -1, Integer::sum);
    }
    lease.close();
  }
}
