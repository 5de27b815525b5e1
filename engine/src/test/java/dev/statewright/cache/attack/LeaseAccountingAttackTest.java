package dev.statewright.cache.attack;

import static dev.statewright.cache.attack.Kit.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.Snapshot;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attack on what a snapshot says about leases, public API only. Promises: C10
 * "Snapshot.openLeases() counts the leases on the served client, retiredClientsInUse() the
 * replaced or removed clients still leased (each released when its last lease closes, C6)"; C13 "a
 * reconfigure keeps the generation ... and a ClientLease's version() is the version its client
 * reflects"; C15 generation. One writer, so after each awaited step the test knows exactly which
 * leases are open on which client and what the snapshot must say.
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LeaseAccountingAttackTest {
  private final Threads threads = new Threads();
  private final Queue<Live> built = new ConcurrentLinkedQueue<>();
  private final Queue<String> problems = new ConcurrentLinkedQueue<>();
  private final Map<Live, Integer> open = new IdentityHashMap<>();
  private ClientCache<String, Spec, Live> cache;

  @AfterEach
  void tearDown() {
    if (cache != null) {
      cache.close();
    }
    threads.close();
  }

  @Test
  void snapshotsCountEveryOpenLeaseWhateverReplacedOrReconfiguredItsClient() throws Exception {
    SplittableRandom random = Seeds.random("snapshotsCountEveryOpenLease");
    cache = ClientCache.<String, Spec, Live>builder((key, spec) -> {
      Live live = new Live(spec);
      built.add(live);
      return live;
    }).name("attack-accounting").scheduler(threads).changePolicy(new ReconfigureAttackTest
        .ChangePolicy()).backoff(Backoff.fixed(Duration.ofMillis(5)))
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
              problems.add("closed with " + n + " leases open: built from v" + c.builtFrom.v());
            }
          }
          c.close();
        }).build();
    String key = "k";
    long v = 1;
    String url = "u1";
    await(cache.upsert(key, new Spec(url, "t1", v), v));
    long generation = 1;
    List<ClientLease<Live>> leases = new ArrayList<>();
    for (int step = 0; step < 400; step++) {
      int op = random.nextInt(8);
      String what;
      switch (op) {
        case 0, 1, 2 -> {
          ClientLease<Live> lease = cache.acquire(key);
          leases.add(lease);
          synchronized (open) {
            open.merge(lease.get(), 1, Integer::sum);
          }
          what = "acquire";
        }
        case 3, 4 -> {
          if (leases.isEmpty()) {
            continue;
          }
          ClientLease<Live> lease = leases.remove(random.nextInt(leases.size()));
          synchronized (open) {
            open.merge(lease.get(), -1, Integer::sum);
          }
          lease.close();
          what = "close a lease";
        }
        case 5 -> {
          url = "u" + (++v);
          await(cache.upsert(key, new Spec(url, "t" + v, v), v));
          generation++;
          what = "rebuild to v" + v;
        }
        case 6 -> {
          boolean fails = random.nextInt(3) == 0;
          v++;
          await(cache.upsert(key, new Spec(url, "t" + v + (fails ? "!" : ""), v), v));
          if (fails) {
            generation++;
          }
          what = (fails ? "failed " : "") + "reconfigure to v" + v;
        }
        default -> {
          boolean viaLease = !leases.isEmpty() && random.nextBoolean();
          ClientLease<Live> reporter = viaLease ? leases.get(random.nextInt(leases.size())) : null;
          boolean current = reporter == null || reporter.isCurrent();
          boolean marked = reporter != null
              ? reporter.reportFailure(new IllegalStateException("401"))
              : cache.invalidate(key, new IllegalStateException("401"));
          if (marked != current) {
            problems.add(step + ": a report on a " + (current ? "current" : "replaced")
                + " client answered " + marked);
          }
          if (marked) {
            generation++;
          }
          try (ClientLease<Live> replacement = cache.acquireAsync(key)
              .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS)) {
            replacement.get(); // waits for the rebuild
          }
          what = (reporter != null ? "report via a lease" : "invalidate") + ", marked " + marked;
        }
      }
      check(step, what, key, leases, generation);
    }
    for (ClientLease<Live> lease : leases) {
      synchronized (open) {
        open.merge(lease.get(), -1, Integer::sum);
      }
      lease.close();
    }
    cache.close();
    CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
        .get(Kit.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(built).allSatisfy(c -> assertThat(c.closes).hasValue(1));
    assertThat(problems).isEmpty();
  }

  private void check(int step, String what, String key, List<ClientLease<Live>> leases,
      long generation) {
    Snapshot<String, Spec, Live> s = cache.snapshot(key).orElseThrow();
    Live served;
    try (ClientLease<Live> probe = cache.acquire(key)) {
      served = probe.get();
    }
    int onServed = 0;
    Map<Live, Boolean> retired = new IdentityHashMap<>();
    for (ClientLease<Live> lease : leases) {
      if (lease.get() == served) {
        onServed++;
        if (!lease.isCurrent()) {
          problems.add(step + " " + what + ": a lease on the served client is not current");
        }
        if (lease.version() != s.servedVersion().orElseThrow()) {
          problems.add(step + " " + what + ": a lease on the served client says v"
              + lease.version() + ", the snapshot v" + s.servedVersion());
        }
      } else {
        retired.put(lease.get(), true);
        if (lease.isCurrent()) {
          problems.add(step + " " + what + ": a lease on a replaced client is current");
        }
      }
      if (lease.version() != lease.get().version()) {
        problems.add(step + " " + what + ": a lease says v" + lease.version()
            + ", its client reflects v" + lease.get().version());
      }
    }
    if (s.openLeases() != onServed) {
      problems.add(step + " " + what + ": openLeases " + s.openLeases() + ", open on the served "
          + "client " + onServed);
    }
    if (s.retiredClientsInUse() != retired.size()) {
      problems.add(step + " " + what + ": retiredClientsInUse " + s.retiredClientsInUse()
          + ", replaced clients still leased " + retired.size());
    }
    if (s.generation() != generation) {
      problems.add(step + " " + what + ": generation " + s.generation() + ", expected "
          + generation);
    }
    assertThat(problems).as("seeded steps so far").isEmpty();
  }
}
