package dev.statewright.kubernetes;

import dev.statewright.cache.Backoff;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.dsl.Listable;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Follows Kubernetes resources through a fabric8 informer. Each resource is a key
 * ({@code namespace/name}, or {@code name} when cluster-scoped) whose spec the mapper derives.
 *
 * <p>Versions are {@link VersionPolicy#GENERATION} by default: a resource's
 * {@code metadata.generation}, which the API server bumps for spec changes only, so a status-only
 * update rebuilds nothing. Because a deleted and re-created resource starts again at generation 1,
 * the source numbers each incarnation (each {@code metadata.uid}) after the last version it
 * delivered for that key: versions never go back. {@link VersionPolicy#RESOURCE_VERSION} uses the
 * numeric {@code metadata.resourceVersion} instead: every change, status too, is a new version.
 *
 * <p>The informer's first list is delivered as a {@code resync} (with its resourceVersion under
 * {@code RESOURCE_VERSION}); afterwards it delivers each change, and after a watch expires it lists
 * again and delivers the difference, deletes found that way at the new list's resourceVersion.
 *
 * <p>With {@link Builder#secrets}, a second informer turns every change to a Secret's data into
 * {@code dependencyChanged("namespace/name")}: the cache rebuilds the entries whose
 * {@code dependsOn} names that Secret. Secret data never leaves the informer: it is compared by
 * SHA-256 digest (a 32-bit hash lets two different data maps collide, and a credential rotation
 * then rebuilds nothing) and never logged.
 *
 * <p>An informer that fails to start (its first list fails: the API server is down, the resource
 * type is not served yet, access is denied) is closed and started afresh after a delay from the
 * {@link Builder#restartBackoff restart backoff}, for as long as the source is open; each failure
 * is logged. Until the Secret informer has started, Secret changes are not seen; when it starts,
 * its first list reports every Secret as changed, so dependents rebuild once.
 *
 * <p>Progress (for {@code ClientCache.acquireAsOf}), in resourceVersions whatever the
 * {@link VersionPolicy}: after the first list, its resourceVersion; afterwards, the informer's
 * last synced resourceVersion (advanced by watch events and by watch bookmarks) whenever what the
 * source has delivered matches the informer's store key for key and resourceVersion for
 * resourceVersion. That version is read before the store, so the store holds everything up to it.
 * The check runs after each change and once a second while the informer's version is ahead of the
 * last one reported. {@link #currentVersion()} lists with {@code limit=1}: the API server answers
 * that from a quorum read. On a quiet cluster progress reaches it with the next bookmark (the API
 * server sends one to informers about once a minute).
 *
 * <p>Memory consistency effects: the sink is called on the source's own thread, one call at a
 * time, in the order the informers reported the changes; each call <i>happens-before</i> the next.
 *
 * @param <R> the resource type
 * @param <S> the spec type
 */
public final class InformerEventSource<R extends HasMetadata, S> implements EventSource<String, S> {
  /*
   * Concurrency: fabric8 calls handlers on its own threads; they hand events to `loop`, one thread,
   * which alone calls the sink, starts and restarts the informers and touches the fields below
   * (restarts are scheduled on it too). `closed` is volatile for close().
   */
  private static final System.Logger LOG = System.getLogger(InformerEventSource.class.getName());

  /** How a resource's version is derived. */
  public enum VersionPolicy {
    /** {@code metadata.generation}, per incarnation: only spec changes are new versions. */
    GENERATION,
    /** The numeric {@code metadata.resourceVersion}: every change is a new version. */
    RESOURCE_VERSION
  }

  private final String name;
  private final Informable<R> resources;
  private final Function<? super R, ? extends S> mapper;
  private final VersionPolicy versionPolicy;
  private final Informable<Secret> secrets; // null when Secrets are not followed
  private final Backoff restartBackoff;
  private final ScheduledExecutorService loop;
  private final CompletableFuture<Void> started = new CompletableFuture<>();

  private final Map<String, Incarnation> incarnations = new HashMap<>();
  /** Secret key -> SHA-256 of its data, hex. */
  private final Map<String, String> secretDigests = new HashMap<>();
  private SharedIndexInformer<R> resourceInformer;
  private SharedIndexInformer<Secret> secretInformer;
  private int resourceFailures;
  private int secretFailures;
  private boolean resourcesRequested;
  private EventSink<String, S> sink;
  private volatile boolean closed;
  /** Progress: resourceVersion per live key as the handler last saw it. Loop-confined. */
  private final Map<String, Long> seenVersions = new HashMap<>();
  private long progress; // loop-confined: the highest resourceVersion reported
  private boolean progressCheckQueued; // loop-confined

  /**
   * A key's resource as the source last saw it: its uid (null once deleted), the version its
   * generations count from, and the last version delivered.
   */
  private record Incarnation(String uid, long base, long last) { }

  private InformerEventSource(Builder<R, S> builder) {
    this.name = builder.name;
    this.resources = builder.resources;
    this.mapper = builder.mapper;
    this.versionPolicy = builder.versionPolicy;
    this.secrets = builder.secrets;
    this.restartBackoff = builder.restartBackoff;
    this.loop = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "statewright-informer-" + name);
      thread.setDaemon(true);
      return thread;
    });
  }

  /** A builder for a source following {@code resources}, each mapped to a spec by {@code mapper}. */
  public static <R extends HasMetadata, S> Builder<R, S> builder(Informable<R> resources,
      Function<? super R, ? extends S> mapper) {
    return new Builder<>(resources, mapper);
  }

  /** The key of {@code resource}: {@code namespace/name}, or {@code name} if cluster-scoped. */
  public static String keyOf(HasMetadata resource) {
    ObjectMeta meta = resource.getMetadata();
    return meta.getNamespace() == null ? meta.getName() : meta.getNamespace() + "/" + meta.getName();
  }

  /**
   * Starts the Secret informer (if any), then the resource informer once the Secrets are listed,
   * so that the Secrets present at start rebuild nothing. Returns at once.
   */
  @Override
  public void start(EventSink<String, S> sink) {
    Objects.requireNonNull(sink, "sink");
    submit(() -> {
      if (this.sink != null) {
        throw new IllegalStateException(this + " is already started");
      }
      this.sink = sink;
      if (secrets == null) {
        startResources();
      } else {
        startSecrets();
      }
    });
  }

  @Override
  public void close() {
    closed = true;
    started.completeExceptionally(new IllegalStateException(this + " was closed before it started"));
    submit(() -> {
      if (resourceInformer != null) {
        resourceInformer.close();
      }
      if (secretInformer != null) {
        secretInformer.close();
      }
    });
    loop.shutdown();
  }

  /** Starts the resource informer; a failed start is retried after a backoff. */
  private void startResources() {
    resourcesRequested = true;
    if (closed) {
      return;
    }
    SharedIndexInformer<R> informer = resources.runnableInformer(0).addEventHandler(handler(this::followed));
    resourceInformer = informer;
    informer.start().whenComplete((synced, failed) -> submit(() -> {
      if (failed == null) {
        resourceFailures = 0;
        firstList();
      } else {
        informer.close();
        restartLater("the informer", ++resourceFailures, failed, this::startResources);
      }
    }));
  }

  /**
   * Starts the Secret informer; the resources start after its first outcome, so the Secrets
   * present at start rebuild nothing. A failed start is retried after a backoff meanwhile.
   */
  private void startSecrets() {
    if (closed) {
      return;
    }
    SharedIndexInformer<Secret> informer = secrets.runnableInformer(0)
        .addEventHandler(handler(this::secretChanged));
    secretInformer = informer;
    informer.start().whenComplete((synced, failed) -> submit(() -> {
      if (failed == null) {
        secretFailures = 0;
      } else {
        informer.close();
        restartLater("the Secret informer", ++secretFailures, failed, this::startSecrets);
      }
      if (!resourcesRequested) {
        startResources();
      }
    }));
  }

  private void restartLater(String what, int failures, Throwable failure, Runnable restart) {
    Duration delay = restartBackoff.delay(failures, ThreadLocalRandom.current());
    LOG.log(System.Logger.Level.WARNING, () -> this + ": " + what + " failed to start (" + failure
        + ", " + failures + " in a row); starting it again in " + delay);
    try {
      loop.schedule(() -> submit(restart), delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException shutDown) {
      // closed: nothing more is started
    }
  }

  /**
   * Completes once the first list has been delivered to the sink and the informer watches for
   * changes. A failed start is retried (see {@link Builder#restartBackoff}), so it stays
   * incomplete meanwhile; it fails only if the source is closed first. For readiness checks
   * (and tests).
   */
  public CompletionStage<Void> started() {
    return started.copy();
  }

  /**
   * The informer's first list, delivered as a resync. Its handler may already have delivered some
   * of these resources; they are listed at the version they were delivered with.
   */
  private void firstList() {
    long asOf = syncedVersion(); // before the store: the store holds at least this much
    Map<String, Versioned<S>> all = new HashMap<>();
    for (R resource : resourceInformer.getStore().list()) {
      String key = keyOf(resource);
      seenVersions.put(key, resourceVersionOrMax(resource));
      long version = advance(resource);
      if (version == 0) { // delivered already, by the handler
        version = incarnations.get(key).last();
      }
      Versioned<S> spec = map(resource, version);
      if (spec != null) {
        all.put(key, spec);
      }
    }
    if (versionPolicy == VersionPolicy.RESOURCE_VERSION) {
      sink.resync(all, listVersion());
    } else {
      sink.resync(all);
    }
    reportProgress(asOf);
    started.complete(null);
    checkProgressEverySecond();
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
   * The API server's current resourceVersion: a list with {@code limit=1}, which the API server
   * serves from a quorum read. Unsupported unless the resources given to the builder can list.
   * The list runs on the source's thread, between deliveries.
   *
   * @return completes with the resourceVersion
   */
  @Override
  public CompletableFuture<Long> currentVersion() {
    if (!(resources instanceof Listable<?> listable)) {
      return EventSource.super.currentVersion();
    }
    return CompletableFuture.supplyAsync(() -> {
      Object list = listable.list(new ListOptionsBuilder().withLimit(1L).build());
      long version = Long.parseLong(((KubernetesResourceList<?>) list).getMetadata()
          .getResourceVersion());
      submit(this::checkProgress);
      return version;
    }, loop);
  }

  /** A change as the handler sees it: delivered, remembered for progress, then progress checked. */
  private void followed(R resource, boolean deleted, boolean relisted) {
    changed(resource, deleted, relisted);
    if (deleted) {
      seenVersions.remove(keyOf(resource));
    } else {
      seenVersions.merge(keyOf(resource), resourceVersionOrMax(resource), Math::max);
    }
    if (!progressCheckQueued) {
      progressCheckQueued = true;
      submit(this::checkProgress); // after the changes queued meanwhile: one check per burst
    }
  }

  /** Reports the informer's synced version if what was delivered matches its store. */
  private void checkProgress() {
    progressCheckQueued = false;
    long asOf = syncedVersion(); // before the store: the store holds at least this much
    if (!started.isDone() || asOf <= progress) {
      return;
    }
    List<R> store = resourceInformer.getStore().list();
    if (store.size() != seenVersions.size()) {
      return;
    }
    for (R resource : store) {
      Long seen = seenVersions.get(keyOf(resource));
      if (seen == null || seen < resourceVersionOrMax(resource)) {
        return; // its change is still on its way to the handler
      }
    }
    reportProgress(asOf);
  }

  private void checkProgressEverySecond() {
    if (!closed) {
      CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS, this::submit).execute(() -> {
        checkProgress();
        checkProgressEverySecond();
      });
    }
  }

  private void reportProgress(long version) {
    if (version > progress) {
      progress = version;
      sink.progress(version);
    }
  }

  /** The informer's last synced resourceVersion; 0 if it is not a number. */
  private long syncedVersion() {
    try {
      return listVersion();
    } catch (NumberFormatException | NullPointerException notANumber) {
      return 0;
    }
  }

  /** A resource's resourceVersion; the largest long if it is not a number (never "seen"). */
  private static long resourceVersionOrMax(HasMetadata resource) {
    try {
      return Long.parseLong(resource.getMetadata().getResourceVersion());
    } catch (NumberFormatException notANumber) {
      return Long.MAX_VALUE;
    }
  }

  private void changed(R resource, boolean deleted, boolean relisted) {
    String key = keyOf(resource);
    if (!deleted) {
      long version = advance(resource);
      Versioned<S> spec = version == 0 ? null : map(resource, version);
      if (spec != null) {
        sink.upsert(key, spec.value(), version);
      }
      return;
    }
    long last = lastVersion(incarnations.get(key));
    long version = switch (versionPolicy) {
      case GENERATION -> last + 1;
      case RESOURCE_VERSION -> relisted ? listVersion() : resourceVersion(resource);
    };
    if (version > last) {
      incarnations.put(key, new Incarnation(null, version, version));
      sink.delete(key, version);
    }
  }

  /**
   * Records the version of {@code resource} if it is newer than the last one recorded for its
   * key, and returns it; returns 0 if it is not (a status-only update, under {@code GENERATION}).
   */
  private long advance(R resource) {
    String key = keyOf(resource);
    Incarnation known = incarnations.get(key);
    String uid = resource.getMetadata().getUid();
    long last = lastVersion(known);
    long base = known == null ? 0 : Objects.equals(known.uid(), uid) ? known.base() : last;
    long version = versionPolicy == VersionPolicy.RESOURCE_VERSION ? resourceVersion(resource)
        : base + Objects.requireNonNullElse(resource.getMetadata().getGeneration(), 1L);
    if (version <= last) {
      return 0;
    }
    incarnations.put(key, new Incarnation(uid, base, version));
    return version;
  }

  /** The spec of {@code resource} at {@code version}; null (and rejected) if the mapper fails. */
  private Versioned<S> map(R resource, long version) {
    try {
      return Versioned.of(Objects.requireNonNull(mapper.apply(resource),
          "the mapper returned null"), version);
    } catch (RuntimeException e) {
      String key = keyOf(resource);
      sink.reject(key, new IllegalArgumentException("cannot map " + resource.getKind() + " " + key
          + " at resourceVersion " + resource.getMetadata().getResourceVersion() + ": "
          + e.getMessage(), e));
      return null;
    }
  }

  private static long lastVersion(Incarnation known) {
    return known == null ? 0 : known.last();
  }

  private void secretChanged(Secret secret, boolean deleted, boolean relisted) {
    String key = keyOf(secret);
    String digest = deleted ? null : SecretDigest.of(secret);
    String before = deleted ? secretDigests.remove(key) : secretDigests.put(key, digest);
    if (deleted || !digest.equals(before)) {
      sink.dependencyChanged(key);
    }
  }

  private long listVersion() {
    return Long.parseLong(resourceInformer.lastSyncResourceVersion());
  }

  private static long resourceVersion(HasMetadata resource) {
    String version = resource.getMetadata().getResourceVersion();
    try {
      return Long.parseLong(version);
    } catch (NumberFormatException e) {
      throw new IllegalStateException("resourceVersion " + version + " of " + keyOf(resource)
          + " is not a number; use VersionPolicy.GENERATION", e);
    }
  }

  /** What a handler hands to the loop: a resource, whether it is gone, whether a relist said so. */
  @FunctionalInterface
  private interface Change<T> {
    void apply(T resource, boolean deleted, boolean relisted);
  }

  private <T> ResourceEventHandler<T> handler(Change<T> change) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T resource) {
        submit(() -> change.apply(resource, false, false));
      }

      @Override
      public void onUpdate(T before, T after) {
        submit(() -> change.apply(after, false, false));
      }

      @Override
      public void onDelete(T resource, boolean finalStateUnknown) {
        submit(() -> change.apply(resource, true, finalStateUnknown));
      }
    };
  }

  private void submit(Runnable task) {
    try {
      loop.execute(() -> {
        if (closed) {
          return;
        }
        try {
          task.run();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, () -> this + ": " + e.getMessage(), e);
        }
      });
    } catch (RejectedExecutionException shutDown) {
      // closed: nothing more is delivered
    }
  }

  @Override
  public String toString() {
    return "InformerEventSource[" + name + ", " + versionPolicy
        + (secrets == null ? "" : ", with Secrets") + "]";
  }

  /** Configures an {@link InformerEventSource}. */
  public static final class Builder<R extends HasMetadata, S> {
    private final Informable<R> resources;
    private final Function<? super R, ? extends S> mapper;
    private String name = "resources";
    private VersionPolicy versionPolicy = VersionPolicy.GENERATION;
    private Informable<Secret> secrets;
    private Backoff restartBackoff = Backoff.exponential(Duration.ofSeconds(1), Duration.ofMinutes(1));

    private Builder(Informable<R> resources, Function<? super R, ? extends S> mapper) {
      this.resources = Objects.requireNonNull(resources, "resources");
      this.mapper = Objects.requireNonNull(mapper, "mapper");
    }

    /** The name in logs and the thread's name. */
    public Builder<R, S> name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** How versions are derived; {@link VersionPolicy#GENERATION} by default. */
    public Builder<R, S> version(VersionPolicy versionPolicy) {
      this.versionPolicy = Objects.requireNonNull(versionPolicy, "versionPolicy");
      return this;
    }

    /**
     * Follow these Secrets too: a change to one's data calls
     * {@code dependencyChanged("namespace/name")}.
     */
    public Builder<R, S> secrets(Informable<Secret> secrets) {
      this.secrets = Objects.requireNonNull(secrets, "secrets");
      return this;
    }

    /**
     * The delay before starting an informer again after its start failed; exponential from one
     * second to one minute, with jitter, by default.
     */
    public Builder<R, S> restartBackoff(Backoff restartBackoff) {
      this.restartBackoff = Objects.requireNonNull(restartBackoff, "restartBackoff");
      return this;
    }

    /** The source; {@link EventSource#start} starts its informers. */
    public InformerEventSource<R, S> build() {
      return new InformerEventSource<>(this);
    }
  }
}
