package dev.statewright.etcd;

import dev.statewright.cache.Backoff;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Follows every key under a prefix of an etcd cluster. It lists the prefix, delivers the listing
 * as {@code resync(all, revision)}, then watches from the next revision: a put is an
 * {@code upsert} at the key's {@code mod_revision}, a delete a {@code delete} at the delete's
 * revision. Keys reach the sink with the prefix removed.
 *
 * <p>A watch that fails resumes where it stopped, through whichever endpoint the client reaches,
 * after a jittered exponential backoff; a watch cancelled because its revision was compacted lists
 * again and resyncs. The source never delivers a revision of a key older than one it delivered
 * before. A value the parser refuses is {@linkplain EventSink#reject rejected}: the key keeps what
 * it had and the source goes on.
 *
 * <p>Optionally a second prefix holds dependencies (credentials, say): a put or delete under it
 * calls {@link EventSink#dependencyChanged} with the dependency's full key, so specs that name that
 * key in the cache's {@code dependsOn} are rebuilt.
 *
 * <p>Progress (for {@code ClientCache.acquireAsOf}): the source reports the listing's revision,
 * after each watch response the revision of its last event (etcd never splits one revision's
 * events across responses), and the revision of every progress notification etcd sends on its own
 * ({@code WatchOption.withProgressNotify}: the server sends those through the watcher's ordered
 * stream, to synced watchers only). It never sends a progress <em>request</em>: before etcd 3.4.24
 * and 3.5.8 the answer to one bypasses the events still queued for the watcher (etcd-io/etcd#15220),
 * which would report progress past events not yet delivered. Instead, when the watch has been
 * quiet for {@code progressInterval}, and after each {@link #currentVersion()}, it proves progress
 * itself: a quorum count of the prefix at revision {@code R}, and the keys at {@code R} modified
 * after the last delivered revision {@code a}; no such key and as many keys as it knows means the
 * prefix did not change between {@code a} and {@code R}, so it reports {@code R}.
 *
 * <p>The source does not own the {@link Client}; closing the source stops its watches and its
 * thread, and the caller closes the client.
 *
 * <p>Memory consistency effects: the sink is called on the source's own thread, one call at a
 * time, in revision order per watched prefix; each call <i>happens-before</i> the next.
 *
 * @param <S> the spec type
 */
public final class EtcdEventSource<S> implements EventSource<String, S> {
  /*
   * Concurrency: every sink call and every field below except `closed` is confined to the
   * source's single thread (`loop`). jetcd calls watch listeners on its own threads; they only
   * hand what they got to the loop, tagged with the epoch of the watch that produced it, and the
   * loop drops anything from a watch it has since replaced. A progress proof takes what it compares
   * against (last delivered revision, number of live keys) on the loop, and its two reads complete
   * on jetcd's threads, which only hand the proven revision back to the loop.
   */
  private static final System.Logger LOG = System.getLogger(EtcdEventSource.class.getName());

  /** Turns a stored value into a spec; throw to reject the value. */
  @FunctionalInterface
  public interface Parser<S> {
    /** The spec stored at {@code key} (prefix removed) as {@code value}. */
    S parse(String key, byte[] value) throws Exception;
  }

  private final String name;
  private final Client client;
  private final String prefix;
  private final String dependencyPrefix; // null when there is none
  private final Parser<S> parser;
  private final Backoff backoff;
  private final Duration requestTimeout;
  private final Duration progressInterval;
  private final ScheduledThreadPoolExecutor loop;

  private final Map<String, Long> delivered = new HashMap<>(); // newest revision per key
  private final Map<String, Versioned<S>> good = new HashMap<>(); // last good spec per live key
  private final Map<String, Long> dependencies = new HashMap<>(); // mod revision per dependency
  private final Set<String> live = new HashSet<>(); // the keys under the prefix, as delivered
  private final Feed specs;
  private final Feed credentials; // null when there is no dependency prefix
  private EventSink<String, S> sink;
  private long highest; // the newest revision delivered for any key
  private int failures;
  private boolean listed;
  private long progress; // the highest revision reported to the sink's progress
  private boolean progressSinceTick; // whether progress was reported since the last idle check
  private volatile boolean closed;

  private EtcdEventSource(Builder<S> builder) {
    this.name = builder.name;
    this.client = builder.client;
    this.prefix = builder.prefix;
    this.dependencyPrefix = builder.dependencyPrefix;
    this.parser = builder.parser;
    this.backoff = builder.backoff;
    this.requestTimeout = builder.requestTimeout;
    this.progressInterval = builder.progressInterval;
    this.specs = new Feed(prefix, this::onSpecEvent);
    this.credentials = dependencyPrefix == null ? null : new Feed(dependencyPrefix,
        this::onDependencyEvent);
    this.loop = new ScheduledThreadPoolExecutor(1, runnable -> {
      Thread thread = new Thread(runnable, "statewright-etcd-" + name);
      thread.setDaemon(true);
      return thread;
    });
    loop.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // pending retries die on close
  }

  /**
   * A builder for a source following the keys under {@code prefix}, read by {@code parser}, over
   * {@code client}.
   */
  public static <S> Builder<S> builder(Client client, String prefix, Parser<S> parser) {
    return new Builder<>(client, prefix, parser);
  }

  @Override
  public void start(EventSink<String, S> sink) {
    Objects.requireNonNull(sink, "sink");
    submit(() -> {
      if (this.sink != null) {
        LOG.log(System.Logger.Level.WARNING, () -> this + " was started twice; ignoring");
        return;
      }
      this.sink = sink;
      relist();
      loop.scheduleWithFixedDelay(this::proveProgressIfIdle, progressInterval.toNanos(),
          progressInterval.toNanos(), TimeUnit.NANOSECONDS);
    });
  }

  /**
   * Whether this source reports progress: it does, as the class comment says.
   *
   * @return true
   */
  @Override
  public boolean reportsProgress() {
    return true;
  }

  /**
   * The cluster's current revision, from a quorum (linearizable) read of the prefix; the source
   * then tries to prove it has delivered everything up to it, so a consistent read waits little.
   *
   * @return completes with the revision, or fails if etcd does not answer within the request
   *     timeout
   */
  @Override
  public CompletableFuture<Long> currentVersion() {
    CompletableFuture<Long> revision = new CompletableFuture<>();
    submit(() -> proveProgress(revision));
    return revision.orTimeout(requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void close() {
    closed = true;
    submit(this::stopWatches);
    loop.shutdown();
  }

  /** Lists both prefixes at one revision, resyncs, and watches from the next revision. */
  private void relist() {
    if (closed) {
      return;
    }
    stopWatches();
    try {
      GetResponse listing = get(prefix, 0);
      long revision = listing.getHeader().getRevision();
      GetResponse deps = dependencyPrefix == null ? null : get(dependencyPrefix, revision);
      deliverListing(listing, revision);
      if (deps != null) {
        deliverDependencies(deps);
      }
      listed = true;
      failures = 0;
      startWatch(specs, revision + 1);
      if (credentials != null) {
        startWatch(credentials, revision + 1);
      }
    } catch (Exception e) {
      retry("listing " + prefix + " failed", e, this::relist);
    }
  }

  private GetResponse get(String keyPrefix, long revision) throws Exception {
    GetOption.Builder option = GetOption.builder().isPrefix(true);
    if (revision > 0) {
      option.withRevision(revision);
    }
    try {
      return client.getKVClient().get(bytes(keyPrefix), option.build())
          .get(requestTimeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (TimeoutException e) {
      throw new TimeoutException("no answer from etcd within " + requestTimeout);
    }
  }

  private void deliverListing(GetResponse listing, long revision) {
    if (revision < highest) {
      throw new IllegalStateException("etcd answered at revision " + revision
          + ", older than revision " + highest + " already delivered");
    }
    Map<String, Versioned<S>> all = new HashMap<>();
    Map<String, Long> revisions = new HashMap<>();
    live.clear();
    for (KeyValue kv : listing.getKvs()) {
      live.add(strip(kv.getKey(), prefix));
      String key = strip(kv.getKey(), prefix);
      Versioned<S> spec = accept(key, kv) ? parse(key, kv) : null;
      Versioned<S> current = spec != null ? spec : good.get(key);
      if (current != null) {
        all.put(key, current);
      }
      revisions.put(key, kv.getModRevision());
    }
    // the watch resumes past this revision, so only listed keys can see a stale event again
    good.keySet().retainAll(revisions.keySet());
    delivered.clear();
    delivered.putAll(revisions);
    highest = revision;
    sink.resync(all, revision);
    reportProgress(revision);
  }

  private void deliverDependencies(GetResponse listing) {
    Map<String, Long> now = new HashMap<>();
    for (KeyValue kv : listing.getKvs()) {
      now.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getModRevision());
    }
    if (listed) { // a relist: whatever changed while we were not watching
      Set<String> changed = new HashSet<>(dependencies.keySet());
      changed.addAll(now.keySet());
      changed.removeIf(dependency -> Objects.equals(dependencies.get(dependency),
          now.get(dependency)));
      changed.forEach(sink::dependencyChanged);
    }
    dependencies.clear();
    dependencies.putAll(now);
  }

  private void onSpecEvent(WatchEvent event) {
    KeyValue kv = event.getKeyValue();
    String key = strip(kv.getKey(), prefix);
    if (!accept(key, kv)) {
      return;
    }
    if (event.getEventType() == WatchEvent.EventType.DELETE) {
      good.remove(key);
      live.remove(key);
      sink.delete(key, kv.getModRevision());
      return;
    }
    live.add(key);
    Versioned<S> spec = parse(key, kv);
    if (spec != null) {
      sink.upsert(key, spec.value(), spec.version());
    }
  }

  private void onDependencyEvent(WatchEvent event) {
    KeyValue kv = event.getKeyValue();
    String dependency = kv.getKey().toString(StandardCharsets.UTF_8);
    if (event.getEventType() == WatchEvent.EventType.DELETE) {
      dependencies.remove(dependency);
    } else {
      dependencies.put(dependency, kv.getModRevision());
    }
    sink.dependencyChanged(dependency);
  }

  /** Whether {@code kv} is newer than anything delivered for {@code key}; records it if so. */
  private boolean accept(String key, KeyValue kv) {
    long revision = kv.getModRevision();
    Long before = delivered.get(key);
    if (before != null && before >= revision) {
      return false;
    }
    delivered.put(key, revision);
    highest = Math.max(highest, revision);
    return true;
  }

  /** The parsed spec, recorded as the key's last good one; null (and rejected) if it fails. */
  private Versioned<S> parse(String key, KeyValue kv) {
    try {
      S spec = Objects.requireNonNull(parser.parse(key, kv.getValue().getBytes()),
          "the parser returned null");
      Versioned<S> versioned = Versioned.of(spec, kv.getModRevision());
      good.put(key, versioned);
      return versioned;
    } catch (Exception e) {
      sink.reject(key, new IllegalArgumentException("cannot parse the value of " + prefix + key
          + " at revision " + kv.getModRevision() + ": " + e.getMessage(), e));
      return null;
    }
  }

  private void startWatch(Feed feed, long fromRevision) {
    long watchEpoch = ++feed.epoch;
    feed.resumeAt = fromRevision;
    WatchOption option = WatchOption.builder().isPrefix(true).withRevision(fromRevision)
        .withRequireLeader(true).withProgressNotify(true).build();
    feed.watcher = client.getWatchClient().watch(bytes(feed.prefix), option, new Watch.Listener() {
      @Override
      public void onNext(WatchResponse response) {
        submit(() -> onWatchResponse(feed, watchEpoch, response));
      }

      @Override
      public void onError(Throwable error) {
        submit(() -> onWatchFailed(feed, watchEpoch, error));
      }

      @Override
      public void onCompleted() {
        submit(() -> onWatchFailed(feed, watchEpoch, null));
      }
    });
  }

  private void onWatchResponse(Feed feed, long watchEpoch, WatchResponse response) {
    if (!feed.current(watchEpoch)) {
      return;
    }
    failures = 0;
    for (WatchEvent event : response.getEvents()) {
      feed.resumeAt = Math.max(feed.resumeAt, event.getKeyValue().getModRevision() + 1);
      feed.handler.accept(event);
    }
    if (response.isProgressNotify()) { // sent by etcd on its own, in order: see the class comment
      feed.resumeAt = Math.max(feed.resumeAt, response.getHeader().getRevision() + 1);
    }
    if (feed == specs) {
      reportProgress(feed.resumeAt - 1);
    }
  }

  private void reportProgress(long revision) {
    progressSinceTick = true;
    if (revision > progress) {
      progress = revision;
      sink.progress(revision);
    }
  }

  private void proveProgressIfIdle() {
    boolean idle = !progressSinceTick;
    progressSinceTick = false;
    if (idle && listed && specs.watcher != null) {
      proveProgress(new CompletableFuture<>());
    }
  }

  /**
   * Reads the cluster's revision {@code R} by quorum (completing {@code revision} with it), then
   * reports progress {@code R} if the prefix did not change between the last delivered revision
   * and {@code R}. Runs on the loop; the reads complete elsewhere and hand back to it.
   */
  private void proveProgress(CompletableFuture<Long> revision) {
    long delivered = specs.resumeAt - 1;
    int liveKeys = live.size();
    boolean watching = listed && specs.watcher != null;
    GetOption count = GetOption.builder().isPrefix(true).withCountOnly(true).build();
    client.getKVClient().get(bytes(prefix), count).whenComplete((now, error) -> {
      if (error != null) {
        revision.completeExceptionally(error);
        return;
      }
      long r = now.getHeader().getRevision();
      revision.complete(r);
      if (watching && now.getCount() == liveKeys) {
        submitIfUnchanged(r, delivered);
      }
    });
  }

  /** Reports progress {@code r} if no key under the prefix was modified in (delivered, r]. */
  private void submitIfUnchanged(long r, long delivered) {
    if (r <= delivered) {
      submit(() -> reportProgress(delivered));
      return;
    }
    // keys only, not a count: etcd counts a range before it applies min_mod_revision
    GetOption modifiedSince = GetOption.builder().isPrefix(true).withKeysOnly(true)
        .withRevision(r).withMinModRevision(delivered + 1).withSerializable(true).build();
    client.getKVClient().get(bytes(prefix), modifiedSince).whenComplete((changed, error) -> {
      if (error == null && changed.getKvs().isEmpty()) {
        submit(() -> reportProgress(r));
      }
    });
  }

  private void onWatchFailed(Feed feed, long watchEpoch, Throwable error) {
    if (!feed.current(watchEpoch)) {
      return;
    }
    feed.stop();
    CompactedException compacted = compaction(error);
    if (compacted != null) {
      LOG.log(System.Logger.Level.INFO, () -> this + ": revision " + feed.resumeAt
          + " was compacted (now at " + compacted.getCompactedRevision() + "); listing again");
      relist();
      return;
    }
    String why = error == null ? "the watch on " + feed.prefix + " ended"
        : "the watch on " + feed.prefix + " failed";
    retry(why, error, () -> {
      if (feed.watcher == null) { // a relist meanwhile has started a fresh watch
        startWatch(feed, feed.resumeAt);
      }
    });
  }

  private static CompactedException compaction(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof CompactedException compacted) {
        return compacted;
      }
    }
    return null;
  }

  private void retry(String what, Throwable error, Runnable action) {
    Duration delay = backoff.delay(++failures, ThreadLocalRandom.current());
    LOG.log(System.Logger.Level.WARNING, () -> this + ": " + what
        + (error == null ? "" : " (" + error + ")") + "; trying again in " + delay);
    try {
      loop.schedule(() -> {
        if (!closed) {
          action.run();
        }
      }, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException shutDown) {
      // closed meanwhile
    }
  }

  private void stopWatches() {
    specs.stop();
    if (credentials != null) {
      credentials.stop();
    }
  }

  private void submit(Runnable task) {
    try {
      loop.execute(task);
    } catch (RejectedExecutionException shutDown) {
      // closed: nothing more is delivered
    }
  }

  private static ByteSequence bytes(String text) {
    return ByteSequence.from(text, StandardCharsets.UTF_8);
  }

  private static String strip(ByteSequence key, String prefix) {
    return key.toString(StandardCharsets.UTF_8).substring(prefix.length());
  }

  @Override
  public String toString() {
    return "EtcdEventSource[" + name + ", " + prefix + "*"
        + (dependencyPrefix == null ? "" : ", dependencies " + dependencyPrefix + "*") + "]";
  }

  /** One watched prefix: where its watch resumes, and the watch itself. Loop-confined. */
  private final class Feed {
    final String prefix;
    final Consumer<WatchEvent> handler;
    long resumeAt;
    long epoch; // which of this prefix's watches is the current one
    Watch.Watcher watcher;

    Feed(String prefix, Consumer<WatchEvent> handler) {
      this.prefix = prefix;
      this.handler = handler;
    }

    /** Whether a callback of the watch started at {@code watchEpoch} still counts. */
    boolean current(long watchEpoch) {
      return !closed && watcher != null && epoch == watchEpoch;
    }

    void stop() {
      if (watcher != null) {
        watcher.close();
        watcher = null;
      }
    }
  }

  /** Configures an {@link EtcdEventSource}. */
  public static final class Builder<S> {
    private final Client client;
    private final String prefix;
    private final Parser<S> parser;
    private String name;
    private String dependencyPrefix;
    private Backoff backoff = Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5));
    private Duration requestTimeout = Duration.ofSeconds(10);
    private Duration progressInterval = Duration.ofSeconds(1);

    private Builder(Client client, String prefix, Parser<S> parser) {
      this.client = Objects.requireNonNull(client, "client");
      this.prefix = requirePrefix(prefix, "prefix");
      this.parser = Objects.requireNonNull(parser, "parser");
      this.name = prefix;
    }

    /** The name in logs and the thread's name; the prefix by default. */
    public Builder<S> name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * Also watch the keys under {@code dependencyPrefix}: each change calls
     * {@code dependencyChanged} with the changed key in full (prefix included).
     */
    public Builder<S> dependencies(String dependencyPrefix) {
      this.dependencyPrefix = requirePrefix(dependencyPrefix, "dependency prefix");
      return this;
    }

    /** The delay before listing or watching again after a failure; 100 ms doubling to 5 s. */
    public Builder<S> backoff(Backoff backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /** How long a listing may take before it counts as failed; 10 s by default. */
    public Builder<S> requestTimeout(Duration requestTimeout) {
      Objects.requireNonNull(requestTimeout, "requestTimeout");
      if (requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be positive, got "
            + requestTimeout);
      }
      this.requestTimeout = requestTimeout;
      return this;
    }

    /**
     * How long the watch may stay quiet before the source proves its progress by two reads (see
     * the class comment); 1 s by default.
     *
     * @param progressInterval the quiet time before a progress check
     * @return this builder
     */
    public Builder<S> progressInterval(Duration progressInterval) {
      Objects.requireNonNull(progressInterval, "progressInterval");
      if (progressInterval.isNegative() || progressInterval.isZero()) {
        throw new IllegalArgumentException("progressInterval must be positive, got "
            + progressInterval);
      }
      this.progressInterval = progressInterval;
      return this;
    }

    /** The source; {@link EventSource#start} begins listing. */
    public EtcdEventSource<S> build() {
      if (dependencyPrefix != null
          && (dependencyPrefix.startsWith(prefix) || prefix.startsWith(dependencyPrefix))) {
        throw new IllegalArgumentException("the dependency prefix " + dependencyPrefix
            + " overlaps the spec prefix " + prefix);
      }
      return new EtcdEventSource<>(this);
    }

    private static String requirePrefix(String prefix, String what) {
      Objects.requireNonNull(prefix, what);
      if (prefix.isEmpty()) {
        throw new IllegalArgumentException(what + " must not be empty (it would watch every key)");
      }
      return prefix;
    }
  }
}
