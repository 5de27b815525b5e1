package dev.statewright.etcd;

import static dev.statewright.etcd.EtcdCluster.bytes;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.event.EventSink;
import dev.statewright.lease.Lease;
import io.etcd.jetcd.Client;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Consistent reads across replicas, Jepsen-style, on a real three-member etcd: three replicas
 * (each a {@link ClientCache} fed by an {@link EtcdEventSource} over a client preferring a
 * different member), one writer putting numbered values to a few keys, and a reader per replica
 * alternating {@code acquireAsOf(last written revision)} and {@code acquireConsistent}. Each run
 * injects one fault schedule into a member the writer does not talk to: SIGKILL and restart; SIGSTOP
 * and SIGCONT (a partition: its replica's connections hang); or SIGSTOP, compaction past it, then
 * SIGKILL and restart (its replica's watch resumes from a compacted revision and relists). Every
 * operation is recorded with invocation and response, and each key's history is checked against
 * a register with the harness's linearizability checker ({@link RegisterHistory}).
 *
 * <p>A read is <em>stale</em> when it returns an older value than a write that had completed
 * before the read began. Two canaries must be caught (stale or non-linearizable) on every run, or
 * the checks prove nothing: a replica whose events arrive 200 ms late and which answers without
 * waiting for progress, as a cache without {@code acquireAsOf} would; and a replica whose events
 * arrive 200 ms late while its progress is reported at once, as a source trusting etcd's answer to
 * a progress request (etcd-io/etcd#15220) could.
 *
 * <p>Runs 3 schedules ({@code -Dstatewright.runs=N} for more); random choices print their seed,
 * {@code -Dstatewright.seed=N} replays them (not etcd's own timing).
 */
class ConsistentReadsAcrossReplicasTest {
  private static final int KEYS = 5;
  private static final int WRITES_PER_PHASE = 250;
  private static final Duration CANARY_LAG = Duration.ofMillis(200);
  private static final Duration READ_PACE = Duration.ofMillis(5);

  private static EtcdCluster cluster;

  /** How a run disturbs the member it picks. */
  enum Schedule {
    /** SIGKILL the member, write on, restart it. */
    KILL,
    /** SIGSTOP the member (its connections hang, as in a partition), write on, SIGCONT it. */
    PAUSE,
    /** SIGSTOP the member, compact past it, SIGKILL it (its watchers resume compacted), restart. */
    PAUSE_COMPACT_KILL
  }

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = EtcdCluster.start();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void everyReplicaAnswersAsOfTheRevisionItIsAskedForUnderFaults() throws Exception {
    long seed = seed();
    SplittableRandom random = new SplittableRandom(seed);
    int runs = Integer.getInteger("statewright.runs", 3);
    Latencies latencies = new Latencies();
    List<String> problems = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      Schedule schedule = Schedule.values()[run % Schedule.values().length];
      int member = 1 + random.nextInt(2); // the writer prefers member 0
      Run result = new Run(run, schedule, member, random.split(), latencies).execute();
      problems.addAll(result.verify());
      cluster.awaitAllMembersServing();
    }
    latencies.print();
    assertThat(problems).as("seed %d", seed).isEmpty();
  }

  @Test
  void theReadmeShowsTheCompiledConsistentReadSample() throws Exception {
    assertThat(java.nio.file.Files.readString(java.nio.file.Path.of("../../README.md")))
        .as("README.md shows ConsistencySample's code verbatim").contains(EtcdEventSourceTest
            .sample(java.nio.file.Path.of(
                "src/test/java/dev/statewright/etcd/ConsistencySample.java")));
    List<ReadmeSample.RepoClient> used = new ArrayList<>();
    try (Client etcd = cluster.client();
        ClientCache<String, ReadmeSample.RepoSpec, ReadmeSample.RepoClient> repos =
            ReadmeSample.repositories(etcd)) {
      ConsistencySample.readAfterAWrite(etcd, repos, used::add);
    }
    assertThat(used).extracting(client -> client.spec().url())
        .containsExactly("https://mirror.example/bitnami", "https://mirror.example/bitnami");
  }

  @Test
  void aQuietPrefixProvesItsProgressPastWritesElsewhereForAConsistentRead() throws Exception {
    String prefix = "/quiet/";
    try (Client writer = cluster.client();
        Client replicaClient = cluster.clientPreferring(1);
        ClientCache<String, String, String> cache = ClientCache
            .<String, String, String>builder((key, spec) -> spec)
            .acquireTimeout(Duration.ofSeconds(10))
            .source(EtcdEventSource
                .builder(replicaClient, prefix, (key, value) -> new String(value, UTF_8))
                .progressInterval(Duration.ofHours(1)) // no idle checks: only currentVersion's
                .build())
            .build()) {
      long written = writer.getKVClient().put(bytes(prefix + "repo"), bytes("w1"))
          .get(30, TimeUnit.SECONDS).getHeader().getRevision();
      cache.acquireAsOf("repo", written).get(30, TimeUnit.SECONDS).close();
      long elsewhere = 0;
      for (int i = 0; i < 20; i++) { // the cluster's revision moves on; this prefix does not
        elsewhere = writer.getKVClient().put(bytes("/elsewhere/" + i), bytes("x"))
            .get(30, TimeUnit.SECONDS).getHeader().getRevision();
      }

      long started = System.nanoTime();
      try (Lease<String> lease = cache.acquireConsistent("repo").get(30, TimeUnit.SECONDS)) {
        assertThat(lease.get()).isEqualTo("w1");
      }
      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started))
          .as("the source proved progress to revision %d with two reads", elsewhere)
          .isLessThan(5);
    }
  }

  /** One fault schedule: its own prefix, replicas, writer, readers and histories. */
  private static final class Run {
    final int number;
    final Schedule schedule;
    final int member;
    final SplittableRandom random;
    final Latencies latencies;
    final String prefix;
    final RegisterHistory history = new RegisterHistory();
    final Map<String, AtomicLong> completed = new ConcurrentHashMap<>();
    final Set<String> ambiguous = ConcurrentHashMap.newKeySet();
    final AtomicLong lastRevision = new AtomicLong();
    final WriteClock clock = new WriteClock();
    final Counter reads = new Counter();
    final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    final List<ReadReplica> replicas = new ArrayList<>();
    final List<Reader> readers = new ArrayList<>();
    volatile boolean stop;

    Run(int number, Schedule schedule, int member, SplittableRandom random, Latencies latencies) {
      this.number = number;
      this.schedule = schedule;
      this.member = member;
      this.random = random;
      this.latencies = latencies;
      this.prefix = "/consistent/run-" + number + "/";
      for (int k = 0; k < KEYS; k++) {
        completed.put(key(k), new AtomicLong(RegisterHistory.ABSENT));
      }
    }

    Run execute() throws Exception {
      ScheduledExecutorService lag = new ScheduledThreadPoolExecutor(1);
      List<Thread> threads = new ArrayList<>();
      try (Client writer = cluster.clientPreferring(0)) {
        for (int m = 0; m < 3; m++) {
          readers.add(new Reader(replica("replica-" + (m + 1), m, UnaryOperator.identity()),
              Mode.REPLICA, history, reads));
        }
        readers.add(new Reader(replica("canary-no-wait", 0,
            sink -> LaggingSink.lagging(sink, lag, CANARY_LAG)), Mode.NO_PROGRESS_WAIT,
            new RegisterHistory(), new Counter()));
        readers.add(new Reader(replica("canary-early-progress", 0,
            sink -> LaggingSink.progressAhead(sink, lag, CANARY_LAG)), Mode.REPLICA,
            new RegisterHistory(), new Counter()));
        for (Reader reader : readers) {
          SplittableRandom own = random.split();
          Thread thread = new Thread(() -> readLoop(reader, own), "reader-" + reader.replica.name);
          threads.add(thread);
          thread.start();
        }
        writeWithFaults(writer);
      } finally {
        stop = true;
        for (Thread reader : threads) {
          reader.join(TimeUnit.SECONDS.toMillis(60));
          if (reader.isAlive()) {
            errors.add(new AssertionError(reader.getName() + " did not stop within 60 s"));
          }
        }
        replicas.forEach(ReadReplica::close);
        lag.shutdownNow();
        lag.awaitTermination(10, TimeUnit.SECONDS);
      }
      return this;
    }

    private ReadReplica replica(String name, int preferred,
        UnaryOperator<EventSink<String, String>> tamper) {
      ReadReplica replica = new ReadReplica(name, cluster.clientPreferring(preferred), prefix,
          tamper);
      replicas.add(replica);
      return replica;
    }

    private void writeWithFaults(Client writer) throws Exception {
      long id = 0;
      int phases = schedule == Schedule.PAUSE_COMPACT_KILL ? 4 : 3;
      for (int phase = 0; phase < phases; phase++) {
        fault(phase, writer);
        for (int w = 0; w < WRITES_PER_PHASE; w++) {
          String key = key(random.nextInt(KEYS));
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
          while (!write(writer, key, ++id) && System.nanoTime() < deadline) {
            // no leader yet, or the request was lost: a new value, since the lost one may still land
          }
        }
      }
    }

    private void fault(int phase, Client writer) throws Exception {
      switch (schedule) {
        case KILL -> {
          if (phase == 1) {
            cluster.kill(member);
          } else if (phase == 2) {
            cluster.restart(member);
          }
        }
        case PAUSE -> {
          if (phase == 1) {
            cluster.pause(member);
          } else if (phase == 2) {
            cluster.resume(member);
          }
        }
        case PAUSE_COMPACT_KILL -> {
          if (phase == 1) {
            cluster.pause(member);
          } else if (phase == 2) {
            writer.getKVClient().compact(lastRevision.get()).get(30, TimeUnit.SECONDS);
            cluster.kill(member);
          } else if (phase == 3) {
            cluster.restart(member);
          }
        }
        default -> throw new AssertionError(schedule);
      }
    }

    /**
     * One put of {@code id}; false if etcd failed it or it timed out. Such a put's outcome is
     * unknown: the client may still deliver it, and it may land after later writes (jetcd retries
     * a request the caller stopped waiting for), so it is recorded as unknown and never sent
     * again: a retry writes a new value. The last revision is published before the response is
     * recorded, so a read invoked after the response asks for at least this revision;
     * {@code completed} is published after, so a read that saw it began after the response.
     */
    private boolean write(Client writer, String key, long id) {
      List<RegisterHistory.Call> calls = histories().stream()
          .map(h -> h.write("writer", key, id)).toList();
      try {
        long revision = writer.getKVClient().put(bytes(prefix + key), bytes("w" + id))
            .get(3, TimeUnit.SECONDS).getHeader().getRevision();
        lastRevision.accumulateAndGet(revision, Math::max);
        calls.forEach(call -> call.ok(id));
        completed.get(key).set(id);
        clock.tick();
        return true;
      } catch (ExecutionException | TimeoutException lost) {
        calls.forEach(RegisterHistory.Call::unknown);
        ambiguous.add(key + "=" + id);
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        calls.forEach(RegisterHistory.Call::unknown);
        ambiguous.add(key + "=" + id);
        return true; // stop writing
      }
    }

    private List<RegisterHistory> histories() {
      return readers.stream().map(Reader::history).distinct().toList();
    }

    private void readLoop(Reader reader, SplittableRandom own) {
      ReadReplica replica = reader.replica;
      boolean timed = reader.history == history;
      try {
        for (int op = 0; !stop; op++) {
          String key = key(own.nextInt(KEYS));
          boolean asOf = op % 2 == 0;
          if (reader.mode == Mode.NO_PROGRESS_WAIT) {
            read(replica, key, "acquire", reader.history, reader.counter, null);
          } else {
            read(replica, key, asOf ? "acquireAsOf" : "acquireConsistent", reader.history,
                reader.counter, !timed ? null : asOf ? latencies.asOf : latencies.consistent);
          }
          if (timed && op % 8 == 0) {
            directGet(replica, key);
          }
          clock.awaitWriteAfter(clock.writes(), READ_PACE);
        }
      } catch (Throwable t) {
        errors.add(t);
      }
    }

    private void read(ReadReplica replica, String key, String how, RegisterHistory into,
        Counter counter, List<Long> latency) throws InterruptedException {
      long before = completed.get(key).get();
      RegisterHistory.Call call = how.equals("acquireConsistent")
          ? into.read(replica.name + " " + how, key) : into.readAsOf(replica.name + " " + how, key);
      long revision = lastRevision.get();
      long started = System.nanoTime();
      CompletableFuture<ClientLease<String>> lease = switch (how) {
        case "acquireAsOf" -> replica.cache.acquireAsOf(key, revision);
        case "acquireConsistent" -> replica.cache.acquireConsistent(key);
        default -> replica.cache.acquireAsync(key); // what it has, without waiting for progress
      };
      long value;
      try (ClientLease<String> held = lease.get(30, TimeUnit.SECONDS)) {
        value = Long.parseLong(held.get().substring(1));
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof NoSuchElementException)) {
          call.failed();
          counter.failed.incrementAndGet();
          return;
        }
        value = RegisterHistory.ABSENT;
      } catch (TimeoutException e) {
        call.failed();
        counter.failed.incrementAndGet();
        return;
      }
      call.ok(value);
      if (latency != null) {
        latency.add(System.nanoTime() - started);
      }
      counter.reads.incrementAndGet();
      if (value < before && !ambiguous.contains(key + "=" + value)) {
        counter.stale.incrementAndGet();
        counter.examples.add(replica.name + " " + how + "(" + key + (how.equals("acquireAsOf")
            ? ", " + revision : "") + ") returned w" + value + " after w" + before
            + " had completed");
      }
    }

    private void directGet(ReadReplica replica, String key) {
      long started = System.nanoTime();
      try {
        replica.client.getKVClient().get(bytes(prefix + key)).get(5, TimeUnit.SECONDS);
        latencies.direct.add(System.nanoTime() - started);
      } catch (Exception unavailable) {
        // a member down: only answered gets are timed
      }
    }

    /** Checks every history; returns what went wrong, printing the counts. */
    List<String> verify() {
      List<String> problems = new ArrayList<>();
      errors.forEach(e -> problems.add("run " + number + ": " + e));
      RegisterHistory.Counts counts = history.check(2_000_000);
      String what = "run " + (number + 1) + ": " + describe();
      System.out.printf("consistent reads: %d reads, %d stale, %d non-linearizable, %d undecided"
              + " (%s; %d failed in time)%n", reads.reads.get(), reads.stale.get(),
          counts.illegal(), counts.undecided(), what, reads.failed.get());
      if (reads.stale.get() > 0 || counts.illegal() > 0) {
        problems.add(what + ": stale reads " + reads.examples.stream().limit(5).toList()
            + ", non-linearizable keys " + counts.failures());
      }
      if (counts.undecided() > KEYS / 100) {
        problems.add(what + ": " + counts.undecided() + " of " + KEYS + " keys undecided");
      }
      readers.stream().filter(reader -> reader.history != history)
          .forEach(canary -> verifyCaught(canary, what, problems));
      return problems;
    }

    /** A canary must be caught: stale reads or a key that is not linearizable. */
    private void verifyCaught(Reader canary, String what, List<String> problems) {
      RegisterHistory.Counts counts = canary.history.check(2_000_000);
      System.out.printf("consistent reads canary %s (%s): %d reads, %d stale, %d"
              + " non-linearizable, %d undecided%n", canary.replica.name, canary.describe(),
          canary.counter.reads.get(), canary.counter.stale.get(), counts.illegal(),
          counts.undecided());
      if (canary.counter.stale.get() == 0 && counts.illegal() == 0) {
        problems.add(what + ": the canary " + canary.replica.name + " (" + canary.describe()
            + ") was not caught; the checks prove nothing");
      }
    }

    private String describe() {
      return switch (schedule) {
        case KILL -> "member " + (member + 1) + " SIGKILLed and restarted";
        case PAUSE -> "member " + (member + 1) + " paused with SIGSTOP and resumed";
        case PAUSE_COMPACT_KILL -> "member " + (member + 1) + " paused, compaction past it,"
            + " SIGKILLed and restarted";
      } + "; relists " + replicas.stream().map(r -> r.name + " " + (r.listings.get() - 1))
          .toList() + ", " + WRITES_PER_PHASE * (schedule == Schedule.PAUSE_COMPACT_KILL ? 4 : 3)
          + " writes over " + KEYS + " keys";
    }
  }

  /** How a reader reads. */
  private enum Mode {
    /** {@code acquireAsOf(last written revision)} and {@code acquireConsistent}, alternately. */
    REPLICA,
    /** {@code acquireAsync}: what the replica has, without waiting for progress (a canary). */
    NO_PROGRESS_WAIT
  }

  /** One reader thread's replica, how it reads, and where it records. */
  private record Reader(ReadReplica replica, Mode mode, RegisterHistory history, Counter counter) {
    String describe() {
      return switch (replica.name) {
        case "canary-no-wait" -> "events " + CANARY_LAG.toMillis() + " ms late, answers without"
            + " waiting for progress";
        case "canary-early-progress" -> "events " + CANARY_LAG.toMillis() + " ms late, progress"
            + " reported at once, as a progress request answered ahead of queued events would";
        default -> "a replica";
      };
    }
  }

  private static String key(int k) {
    return "key-" + k;
  }

  private static final class Counter {
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger stale = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final List<String> examples = Collections.synchronizedList(new ArrayList<>());
  }

  private static long seed() {
    String fixed = System.getProperty("statewright.seed");
    long seed = fixed != null ? Long.parseLong(fixed) : new SplittableRandom().nextLong();
    System.out.println("consistentReads: seed=" + seed + " (replay with -Dstatewright.seed="
        + seed + ")");
    return seed;
  }
}
