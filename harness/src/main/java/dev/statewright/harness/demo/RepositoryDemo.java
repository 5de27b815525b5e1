package dev.statewright.harness.demo;

import dev.statewright.cache.Backoff;
import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientUnavailableException;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Freshness;
import dev.statewright.cache.Snapshot;
import dev.statewright.event.DirectoryEventSource;
import dev.statewright.event.ManualEventSource;
import dev.statewright.lease.Lease;
import dev.statewright.lifecycle.Transition;
import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * The repository scenario end to end: a folder of repository spec files watched by a
 * {@link DirectoryEventSource}, a factory with realistic build latency, readers on their own
 * threads, and every change the field failure was about. Each check asserts an invariant on what
 * actually happened.
 */
public final class RepositoryDemo {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String MIRROR = "registry-mirror";
  private static final int BURST = 1_000;
  private static final long MIN_BUILD_MILLIS = 15;

  /** A repository spec file: {@code url=} and an optional {@code token=} naming a file beside it. */
  record RepoSpec(String url, String tokenFile) { }

  /** A connected repository client; knows its spec and a fingerprint of its token, never the token. */
  static final class RepoClient implements AutoCloseable {
    final RepoSpec spec;
    final String tokenFingerprint;
    final AtomicInteger closes = new AtomicInteger();

    RepoClient(RepoSpec spec, String tokenFingerprint) {
      this.spec = spec;
      this.tokenFingerprint = tokenFingerprint;
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }

    @Override
    public String toString() {
      return "client(" + spec.url() + (tokenFingerprint.isEmpty() ? "" : ", token " + tokenFingerprint) + ")";
    }
  }

  private final PrintStream out;
  private final Checks checks;
  private final Signal signal = new Signal();
  private final long start = System.nanoTime();
  private final Path dir;
  private final Path scratch;
  private final List<RepoClient> built = new ArrayList<>(); // guarded by itself
  private final Map<String, AtomicInteger> builds = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
  private final AtomicInteger buildingNow = new AtomicInteger();
  private final AtomicInteger maxBuildingNow = new AtomicInteger();
  private final AtomicInteger maxInFlightPerKey = new AtomicInteger();
  private final AtomicInteger coalescedMirrorEvents = new AtomicInteger();
  private ClientCache<String, RepoSpec, RepoClient> cache;

  RepositoryDemo(PrintStream out, Checks checks, Path workspace) throws IOException {
    this.out = out;
    this.checks = checks;
    this.dir = Files.createDirectory(workspace.resolve("repositories"));
    this.scratch = Files.createDirectory(workspace.resolve("scratch"));
  }

  void run() throws Exception {
    out.println("== Repository clients: a folder of spec files, watched, with concurrent readers ==");
    out.println("   folder: " + dir);
    ManualEventSource<String, RepoSpec> burstSource = new ManualEventSource<>();
    write("bitnami.token", "s3cr3t-one");
    write("bitnami.properties", "url=https://charts.bitnami.example\ntoken=bitnami.token\n");
    write("jetstack.properties", "url=https://charts.jetstack.example\n");
    cache = ClientCache.builder(this::build)
        .name("repositories")
        .freshness(Freshness.boundedStaleness(Duration.ofSeconds(5)))
        .acquireTimeout(Duration.ofSeconds(3))
        .maxConcurrentBuilds(2)
        .backoff(Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(2)))
        .dependsOn(spec -> spec.tokenFile() == null ? Set.of() : Set.of(spec.tokenFile()))
        .listener(new Timeline())
        .source(DirectoryEventSource.of(dir, ".properties", RepositoryDemo::parse,
            Duration.ofSeconds(1), Scheduler.system()))
        .source(burstSource)
        .build();

    step("1. two repositories appear");
    awaitServed("bitnami", s -> true);
    awaitServed("jetstack", s -> true);
    checks.check("C4", "both repositories serve a client built from their file",
        servedUrl("bitnami").equals("https://charts.bitnami.example")
            && servedUrl("jetstack").equals("https://charts.jetstack.example"), "");

    Readers readers = new Readers(cache, checks, this::step, 3);
    readers.start();
    urlChange();
    brokenUrlThenFix();
    unparsableFile();
    deleteAndReAdd();
    tokenChange();
    burst(burstSource);
    readers.stopAndCheck();
    closeAndCheck();
  }

  private void urlChange() throws Exception {
    step("2. bitnami's URL changes");
    RepoClient old = lease("bitnami");
    write("bitnami.properties", "url=https://mirror.bitnami.example\ntoken=bitnami.token\n");
    Snapshot<String, RepoSpec, RepoClient> seen =
        awaitDesired("bitnami", spec -> spec.url().contains("mirror"));
    try (Lease<RepoClient> lease = cache.acquireAsync("bitnami", seen.desiredVersion())
        .get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
      checks.check("C4", "acquireAsync(v" + seen.desiredVersion() + ") gives the client of the new URL",
          lease.get().spec.url().equals("https://mirror.bitnami.example"), lease.get().toString());
    }
    Snapshot<String, RepoSpec, RepoClient> listed = cache.list().stream()
        .filter(s -> s.key().equals("bitnami")).findFirst().orElseThrow();
    checks.check("C5", "list() shows the URL of the client it serves, never the old client's",
        listed.servedSpec().orElseThrow().url().equals("https://mirror.bitnami.example"),
        "served v" + listed.servedVersion().orElseThrow());
    checks.check("C6", "the replaced client is closed exactly once, after its readers let go",
        signal.await(() -> old.closes.get() == 1, WAIT), old + " closed " + old.closes.get() + "x");
  }

  private void brokenUrlThenFix() throws Exception {
    step("3. a URL that cannot connect, then a fix");
    int before = builds("bitnami");
    write("bitnami.properties", "url=https://unreachable.bitnami.example\ntoken=bitnami.token\n");
    boolean failed = signal.await(() -> builds("bitnami") >= before + 2
        && snapshot("bitnami").state() == EntryState.STALE
        && snapshot("bitnami").nextRetryNanos().isPresent(), WAIT); // backing off after a retry
    Snapshot<String, RepoSpec, RepoClient> s = snapshot("bitnami");
    checks.check("C7", "a failing build keeps the last good client, records the error, retries",
        failed && servedUrl("bitnami").equals("https://mirror.bitnami.example")
            && s.nextRetryNanos().isPresent(),
        (builds("bitnami") - before) + " attempts, lastError: "
            + s.lastError().map(Throwable::getMessage).orElse("none"));
    write("bitnami.properties", "url=https://charts.bitnami.example\ntoken=bitnami.token\n");
    awaitServed("bitnami", spec -> spec.url().equals("https://charts.bitnami.example"));
    checks.check("C7", "a new spec resets the backoff: served at once, error cleared",
        snapshot("bitnami").lastError().isEmpty() && snapshot("bitnami").state() == EntryState.CURRENT, "");
  }

  private void unparsableFile() throws Exception {
    step("4. a spec file that does not parse");
    int before = builds("bitnami");
    write("bitnami.properties", "this is not a repository\n");
    signal.await(() -> snapshot("bitnami").lastError().isPresent(), WAIT);
    checks.check("C7", "the parse error is recorded against bitnami; its client keeps serving",
        snapshot("bitnami").lastError().map(Throwable::getMessage).orElse("").contains("cannot parse")
            && servedUrl("bitnami").equals("https://charts.bitnami.example"),
        snapshot("bitnami").lastError().map(Throwable::getMessage).orElse("no error"));
    write("bitnami.properties", "url=https://charts.bitnami.example\ntoken=bitnami.token\n");
    signal.await(() -> snapshot("bitnami").lastError().isEmpty(), WAIT);
    checks.check("C3", "restoring the same spec rebuilds nothing (ChangePolicy: NONE)",
        builds("bitnami") == before && snapshot("bitnami").lastError().isEmpty(),
        (builds("bitnami") - before) + " builds");
  }

  private void deleteAndReAdd() throws Exception {
    step("5. jetstack is deleted, then re-added under the same name");
    RepoClient old = lease("jetstack");
    Files.delete(dir.resolve("jetstack.properties"));
    signal.await(() -> snapshot("jetstack").state() == EntryState.REMOVED, WAIT);
    long removedAt = snapshot("jetstack").desiredVersion();
    checks.check("C2", "a deleted repository leaves the listing and is not served",
        cache.list().stream().noneMatch(s -> s.key().equals("jetstack")) && refusedRead("jetstack"),
        "removed at v" + removedAt);
    checks.check("C6", "its client is closed exactly once",
        signal.await(() -> old.closes.get() == 1, WAIT), old.closes.get() + "x");
    write("jetstack.properties", "url=https://charts.jetstack.example/v2\n");
    awaitServed("jetstack", spec -> spec.url().endsWith("/v2"));
    checks.check("C2", "the re-added repository serves its new URL at a newer version",
        snapshot("jetstack").servedVersion().orElseThrow() > removedAt,
        "v" + snapshot("jetstack").servedVersion().orElseThrow() + " > v" + removedAt);
  }

  private void tokenChange() throws Exception {
    step("6. the token inside bitnami.token changes (the spec file does not)");
    RepoClient old = lease("bitnami");
    write("bitnami.token", "s3cr3t-two");
    String expected = fingerprint("s3cr3t-two");
    boolean rebuilt = signal.await(() -> snapshot("bitnami").state() == EntryState.CURRENT
        && lease("bitnami").tokenFingerprint.equals(expected), WAIT);
    checks.check("C9", "the dependency change rebuilt bitnami with the new token",
        rebuilt, "token " + old.tokenFingerprint + " -> " + lease("bitnami").tokenFingerprint);
    checks.check("C6", "the client holding the old token is closed exactly once",
        signal.await(() -> old.closes.get() == 1, WAIT), old.closes.get() + "x");
  }

  private void burst(ManualEventSource<String, RepoSpec> source) throws Exception {
    step("7. a burst of " + BURST + " updates to " + MIRROR + " from 4 threads");
    AtomicLong versions = new AtomicLong();
    long began = System.nanoTime();
    List<Thread> writers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread writer = new Thread(() -> {
        for (long v; (v = versions.incrementAndGet()) <= BURST; ) {
          source.upsert(MIRROR, new RepoSpec("https://mirror.example/" + v, null), v);
        }
      }, "burst-" + t);
      writers.add(writer);
      writer.start();
    }
    for (Thread writer : writers) {
      writer.join();
    }
    long burstMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    try (Lease<RepoClient> lease = cache.acquireAsync(MIRROR, BURST).get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
      checks.check("C3", "after quiescence the last write wins",
          lease.get().spec.url().equals("https://mirror.example/" + BURST), lease.get().toString());
    }
    long bound = 2 + burstMillis / MIN_BUILD_MILLIS;
    checks.check("C3", BURST + " updates coalesced into at most 2 + burst/" + MIN_BUILD_MILLIS + " ms builds",
        builds(MIRROR) <= bound, builds(MIRROR) + " builds for a " + burstMillis + " ms burst (bound "
            + bound + "), " + coalescedMirrorEvents.get() + " updates coalesced");
    checks.check("C1", "never more than one build of a key at once",
        maxInFlightPerKey.get() == 1, "max " + maxInFlightPerKey.get());
    checks.check("C8", "never more than maxConcurrentBuilds (2) builds at once",
        maxBuildingNow.get() <= 2, "max " + maxBuildingNow.get());
  }

  private void closeAndCheck() {
    step("8. close");
    cache.close();
    List<RepoClient> all;
    synchronized (built) {
      all = List.copyOf(built);
    }
    long wrong = all.stream().filter(c -> c.closes.get() != 1).count();
    checks.check("C6", "every client built was closed exactly once", wrong == 0,
        all.size() + " clients, " + wrong + " not closed exactly once");
  }

  // ------------------------------------------------------------------ the factory and the source

  private RepoClient build(String name, RepoSpec spec) throws IOException {
    int now = buildingNow.incrementAndGet();
    maxBuildingNow.accumulateAndGet(now, Math::max);
    AtomicInteger mine = inFlight.computeIfAbsent(name, k -> new AtomicInteger());
    maxInFlightPerKey.accumulateAndGet(mine.incrementAndGet(), Math::max);
    builds.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
    try {
      // connect, authenticate, fetch the index: a realistic build takes tens of milliseconds
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(
          MIN_BUILD_MILLIS + ThreadLocalRandom.current().nextLong(25)));
      if (spec.url().contains("unreachable")) {
        throw new IOException("connect to " + spec.url() + " timed out");
      }
      String token = spec.tokenFile() == null ? ""
          : Files.readString(dir.resolve(spec.tokenFile())).strip();
      RepoClient client = new RepoClient(spec, token.isEmpty() ? "" : fingerprint(token));
      synchronized (built) {
        built.add(client);
      }
      return client;
    } finally {
      mine.decrementAndGet();
      buildingNow.decrementAndGet();
      signal.pulse();
    }
  }

  private static RepoSpec parse(Path file, byte[] bytes) throws IOException {
    Properties p = new Properties();
    p.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
    String url = p.getProperty("url");
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("no url= line");
    }
    return new RepoSpec(url.strip(), p.getProperty("token"));
  }

  /** Prints the timeline of transitions as they happen; a burst's self-loops are only counted. */
  private final class Timeline implements CacheListener<String> {
    @Override
    public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
      signal.pulse();
      if (key.equals(MIRROR) && t.from() == t.to() && t.event() != EntryEvent.BUILD_SUPERSEDED) {
        coalescedMirrorEvents.incrementAndGet();
        return;
      }
      out.printf("  +%5d ms  %-16s %s%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), key, t);
    }

    @Override
    public void onClientReleased(String key, long version) {
      signal.pulse();
    }

    @Override
    public void onRejected(String key, Exception problem) {
      out.printf("  +%5d ms  %-16s rejected: %s%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), key, problem.getMessage());
      signal.pulse();
    }
  }

  // ------------------------------------------------------------------ helpers

  private void step(String title) {
    out.println();
    out.println("-- " + title);
  }

  /** Replaces a file atomically, as a Secret volume or a config tool does. */
  private void write(String name, String content) throws IOException {
    Path next = Files.writeString(scratch.resolve(name), content);
    Files.move(next, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  private Snapshot<String, RepoSpec, RepoClient> snapshot(String key) {
    return cache.snapshot(key).orElseThrow(() -> new NoSuchElementException(key));
  }

  private String servedUrl(String key) {
    return snapshot(key).servedSpec().map(RepoSpec::url).orElse("(nothing served)");
  }

  private int builds(String key) {
    AtomicInteger n = builds.get(key);
    return n == null ? 0 : n.get();
  }

  private RepoClient lease(String key) {
    try (Lease<RepoClient> lease = cache.acquire(key)) {
      return lease.get();
    }
  }

  private boolean refusedRead(String key) {
    try (Lease<RepoClient> lease = cache.acquire(key)) {
      return lease.get() == null;
    } catch (NoSuchElementException expected) {
      out.println("   acquire(\"" + key + "\") -> " + expected.getMessage());
      return true;
    }
  }

  private void awaitServed(String key, Predicate<RepoSpec> served) throws InterruptedException {
    if (!signal.await(() -> cache.snapshot(key).flatMap(Snapshot::servedSpec).filter(served).isPresent()
        && snapshot(key).state() == EntryState.CURRENT, WAIT)) {
      throw new IllegalStateException(key + " was not served as expected within " + WAIT + ": "
          + cache.snapshot(key));
    }
  }

  private Snapshot<String, RepoSpec, RepoClient> awaitDesired(String key, Predicate<RepoSpec> desired)
      throws InterruptedException {
    if (!signal.await(() -> cache.snapshot(key).map(Snapshot::desiredSpec).filter(desired).isPresent(),
        WAIT)) {
      throw new IllegalStateException("the change to " + key + " never arrived within " + WAIT);
    }
    return snapshot(key);
  }

  static String fingerprint(String token) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(digest, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
