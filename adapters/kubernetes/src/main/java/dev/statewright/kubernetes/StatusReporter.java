package dev.statewright.kubernetes;

import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.lifecycle.Transition;
import dev.statewright.time.Scheduler;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Writes a {@code Ready} condition into the status of each resource a {@link ClientCache} keeps a
 * client for (keys {@code "namespace/name"}, as {@link InformerEventSource} makes them), through the
 * status subresource, so that {@code kubectl get} shows the honest state of each client:
 *
 * <ul>
 *   <li>{@code status: "True"}, reason {@code Current}: the served client was built from the
 *       newest spec, and nothing failed since;
 *   <li>{@code "False"}, reason {@code BuildFailed}: the newest spec's build failed (the last good
 *       client, if any, is still served; the next retry is due at {@code nextRetryTime}), or
 *       reason {@code ChangeFailed}: the served client is current but a later change could not be
 *       applied (a rejected spec, a dependency wave held back by a failed canary);
 *   <li>{@code "Unknown"}, reason {@code Rebuilding}: a newer spec is being built.
 * </ul>
 *
 * <p>Beside {@code type}, {@code status}, {@code reason}, {@code message} and
 * {@code lastTransitionTime} (changed only when {@code status} changes), the condition carries
 * {@code servedVersion}, {@code servedGeneration} (builds served for the key) and, while a retry is
 * scheduled, {@code nextRetryTime}. The message holds the last error with credentials redacted (URL
 * user info, bearer and basic tokens, {@code token=}/{@code password=}-style values); specs are
 * never written. Other conditions in the status are kept.
 *
 * <p>Writes are coalesced: a resource is written only when its condition changed since the
 * reporter last wrote it. A report runs after any transition of the cache (several transitions
 * cause one report), and every {@code interval} to catch what no transition announces (a recorded
 * error) and to retry failed writes. Reports run on the scheduler's executor, one at a time.
 *
 * <p>Thread-safe.
 */
public final class StatusReporter implements AutoCloseable {
  /*
   * Overview: report() lists the cache, turns each snapshot into a Ready value, and writes those
   * that differ from what it last wrote (`written`), by editStatus on the resource (a JSON patch of
   * the status subresource). A failed write is forgotten, so the next report tries again.
   *
   * Concurrency: report() is synchronized (one report at a time; it blocks on the API server, on
   * the scheduler's executor, never on a cache thread). `queued` coalesces the reports asked for
   * by transitions: at most one waits to run.
   *
   * Ordering of this file: fields, builder, wiring, the report, the condition, redaction.
   */
  private static final System.Logger LOG = System.getLogger(StatusReporter.class.getName());
  /** The condition's type. */
  public static final String READY = "Ready";
  private static final int MAX_MESSAGE = 1024;
  private static final List<Pattern> SECRETS = List.of(
      Pattern.compile("(?i)(://)[^/@\\s]+@"),
      Pattern.compile("(?i)\\b(bearer|basic)\\s+[A-Za-z0-9._~+/=-]+"),
      Pattern.compile("(?i)\\b(token|password|passwd|secret|api[_-]?key|authorization)(\\s*[=:]\\s*)"
          + "\\S+"));
  private static final List<String> REPLACEMENTS = List.of("$1<redacted>@", "$1 <redacted>",
      "$1$2<redacted>");

  private final MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList,
      Resource<GenericKubernetesResource>> resources;
  private final Scheduler scheduler;
  private final Duration interval;
  private final Function<Throwable, String> describe;
  /** What was last written per key. Guarded by this. */
  private final Map<String, Ready> written = new ConcurrentHashMap<>();
  private final AtomicBoolean queued = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile ClientCache<String, ?, ?> cache;
  private volatile Scheduler.Cancellable timer;

  private StatusReporter(Builder b) {
    this.resources = b.resources;
    this.scheduler = b.scheduler;
    this.interval = b.interval;
    this.describe = b.describe;
  }

  /**
   * A reporter writing into {@code resources}, for instance
   * {@code client.genericKubernetesResources(ResourceDefinitionContext.fromResourceType(MyResource.class))}.
   *
   * @param resources the resources whose status is written, keyed {@code "namespace/name"}
   * @return a builder
   */
  public static Builder builder(MixedOperation<GenericKubernetesResource,
      GenericKubernetesResourceList, Resource<GenericKubernetesResource>> resources) {
    return new Builder(Objects.requireNonNull(resources, "resources"));
  }

  /** Configures a {@link StatusReporter}. */
  public static final class Builder {
    private final MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList,
        Resource<GenericKubernetesResource>> resources;
    private Scheduler scheduler = Scheduler.system();
    private Duration interval = Duration.ofSeconds(30);
    private Function<Throwable, String> describe = StatusReporter::describe;

    private Builder(MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList,
        Resource<GenericKubernetesResource>> resources) {
      this.resources = resources;
    }

    /**
     * Where reports run and how time is read; default {@link Scheduler#system()}.
     *
     * @param scheduler the scheduler
     * @return this builder
     */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * How often a report runs without a transition asking for one; default 30 seconds.
     *
     * @param interval a positive duration
     * @return this builder
     */
    public Builder interval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("interval must be positive, got " + interval);
      }
      this.interval = interval;
      return this;
    }

    /**
     * How an error becomes the condition's message; default its class and message with
     * credentials redacted. Whatever it returns is redacted again and cut to 1024 characters.
     *
     * @param describe turns the last error into text
     * @return this builder
     */
    public Builder errorMessage(Function<Throwable, String> describe) {
      this.describe = Objects.requireNonNull(describe, "describe");
      return this;
    }

    /**
     * The reporter; give {@link #listener()} to the cache's builder, then {@link #start} it.
     *
     * @return the reporter, not yet reporting
     */
    public StatusReporter build() {
      return new StatusReporter(this);
    }
  }

  // ---------------------------------------------------------------- wiring

  /**
   * A listener for the cache's builder: every transition asks for a report (coalesced).
   *
   * @return the listener
   */
  public CacheListener<String> listener() {
    return new CacheListener<>() {
      @Override
      public void onTransition(String key, Transition<EntryState, EntryEvent> transition) {
        requestReport();
      }

      @Override
      public void onRejected(String key, Exception problem) {
        requestReport();
      }
    };
  }

  /**
   * Reports on {@code cache} from now on: at once, after transitions, and every interval.
   *
   * @param cache the cache whose keys are {@code "namespace/name"} of the resources
   * @return this reporter
   */
  public StatusReporter start(ClientCache<String, ?, ?> cache) {
    this.cache = Objects.requireNonNull(cache, "cache");
    requestReport();
    tick();
    return this;
  }

  private void tick() {
    if (!closed.get()) {
      timer = scheduler.schedule(() -> {
        requestReport();
        tick();
      }, interval);
    }
  }

  private void requestReport() {
    if (cache != null && !closed.get() && queued.compareAndSet(false, true)) {
      scheduler.execute(() -> {
        queued.set(false);
        report();
      });
    }
  }

  /** Stops reporting; idempotent. Conditions already written stay. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      Scheduler.Cancellable t = timer;
      if (t != null) {
        t.cancel();
      }
    }
  }

  // ---------------------------------------------------------------- the report

  /**
   * One report now: writes the condition of every live key whose condition changed since it was
   * last written. Blocks on the API server.
   *
   * @return the number of resources written
   */
  public synchronized int report() {
    ClientCache<String, ?, ?> c = cache;
    if (c == null || closed.get()) {
      return 0;
    }
    int writes = 0;
    Set<String> live = new HashSet<>();
    for (Snapshot<String, ?, ?> s : c.list()) {
      live.add(s.key());
      Ready ready = ready(s);
      if (!ready.equals(written.get(s.key())) && write(s.key(), ready)) {
        written.put(s.key(), ready);
        writes++;
      }
    }
    written.keySet().retainAll(live);
    return writes;
  }

  private boolean write(String key, Ready ready) {
    int slash = key.indexOf('/');
    Resource<GenericKubernetesResource> resource = slash < 0 ? resources.withName(key)
        : resources.inNamespace(key.substring(0, slash)).withName(key.substring(slash + 1));
    try {
      resource.editStatus(r -> withReady(r, ready));
      return true;
    } catch (RuntimeException e) { // gone, a conflict, the API server unreachable: next report
      LOG.log(System.Logger.Level.DEBUG, () -> "status of '" + key + "' not written: " + e);
      return false;
    }
  }

  /** A copy of {@code r} whose status holds {@code ready} as its Ready condition. */
  @SuppressWarnings("unchecked")
  private GenericKubernetesResource withReady(GenericKubernetesResource r, Ready ready) {
    Object old = r.getAdditionalProperties().get("status");
    Map<String, Object> status = old instanceof Map<?, ?> m
        ? new LinkedHashMap<>((Map<String, Object>) m) : new LinkedHashMap<>();
    List<Object> conditions = new ArrayList<>();
    String since = scheduler.now().truncatedTo(ChronoUnit.SECONDS).toString();
    if (status.get("conditions") instanceof List<?> list) {
      for (Object condition : list) {
        if (condition instanceof Map<?, ?> m && READY.equals(m.get("type"))) {
          if (ready.status.equals(m.get("status")) && m.get("lastTransitionTime") != null) {
            since = String.valueOf(m.get("lastTransitionTime"));
          }
        } else {
          conditions.add(condition);
        }
      }
    }
    conditions.add(ready.toCondition(since));
    status.put("conditions", conditions);
    GenericKubernetesResource copy = new GenericKubernetesResource();
    copy.setApiVersion(r.getApiVersion());
    copy.setKind(r.getKind());
    copy.setMetadata(r.getMetadata());
    copy.setAdditionalProperties(new LinkedHashMap<>(r.getAdditionalProperties()));
    copy.getAdditionalProperties().put("status", status);
    return copy;
  }

  // ---------------------------------------------------------------- the condition

  /** The condition of one key, without its transition time: what is compared to coalesce. */
  private record Ready(String status, String reason, String message, Long servedVersion,
      Long servedGeneration, String nextRetryTime) {
    Map<String, Object> toCondition(String lastTransitionTime) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("type", READY);
      c.put("status", status);
      c.put("reason", reason);
      c.put("message", message);
      c.put("lastTransitionTime", lastTransitionTime);
      if (servedVersion != null) {
        c.put("servedVersion", servedVersion);
      }
      if (servedGeneration != null) {
        c.put("servedGeneration", servedGeneration);
      }
      if (nextRetryTime != null) {
        c.put("nextRetryTime", nextRetryTime);
      }
      return c;
    }
  }

  private Ready ready(Snapshot<String, ?, ?> s) {
    Long served = s.servedVersion().isPresent() ? s.servedVersion().getAsLong() : null;
    Long generation = served == null ? null : s.generation(); // clients served, rebuilds included
    String retry = null;
    if (s.nextRetryNanos().isPresent()) {
      long in = s.nextRetryNanos().getAsLong() - scheduler.nanoTime();
      retry = scheduler.now().plusNanos(Math.max(0, in)).truncatedTo(ChronoUnit.SECONDS).toString();
    }
    String serving = served == null ? "no client served yet"
        : "serving version " + served + " (generation " + generation + ")";
    String error = s.lastError().map(e -> redact(describe.apply(e))).orElse(null);
    String status;
    String reason;
    if (s.state() == EntryState.CURRENT && error == null) {
      status = "True";
      reason = "Current";
    } else if (error != null) {
      status = "False";
      reason = s.state() == EntryState.CURRENT ? "ChangeFailed" : "BuildFailed";
    } else {
      status = "Unknown";
      reason = "Rebuilding";
    }
    String message = serving + (s.state() == EntryState.CURRENT ? "" : ", version "
        + s.desiredVersion() + " wanted") + (error == null ? "" : "; last error: " + error)
        + (retry == null ? "" : "; next retry at " + retry);
    return new Ready(status, reason, cut(message), served, generation, retry);
  }

  // ---------------------------------------------------------------- redaction

  /** The default message of an error: its class and message, redacted. */
  static String describe(Throwable error) {
    return error.getClass().getSimpleName()
        + (error.getMessage() == null ? "" : ": " + error.getMessage());
  }

  /** {@code text} without URL user info, bearer or basic tokens, or {@code key=value} credentials. */
  static String redact(String text) {
    String out = text == null ? "" : text;
    for (int i = 0; i < SECRETS.size(); i++) {
      out = SECRETS.get(i).matcher(out).replaceAll(REPLACEMENTS.get(i));
    }
    return cut(out);
  }

  private static String cut(String text) {
    return text.length() <= MAX_MESSAGE ? text : text.substring(0, MAX_MESSAGE - 1) + "…";
  }
}
