package dev.statewright.josdk;

import dev.statewright.cache.ChangePolicy;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientFactory;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.ClientUnavailableException;
import dev.statewright.cache.Freshness;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One client per custom resource in a Java Operator SDK operator: a {@link ClientCache} keyed by
 * {@code namespace/name}, fed by the reconciler, whose clients follow the resource's spec and the
 * Secrets it reads.
 *
 * <p>In a {@link Reconciler} that is also a {@link Cleaner}:
 * <ul>
 *   <li>{@link #eventSources} in {@code prepareEventSources}: a JOSDK informer on Secrets. A change
 *       to a Secret's data rebuilds the clients of exactly the resources whose spec names it (as
 *       {@link Builder#secrets} says), then JOSDK reconciles those resources;</li>
 *   <li>{@link #acquire} in {@code reconcile}: records the resource's spec at its generation and
 *       waits until the client serves that generation, and any Secret change already seen
 *       (read-your-writes), then hands out a lease on it;</li>
 *   <li>{@link #cleanup} in {@code cleanup}: removes the resource's entry; its client is closed
 *       after its last lease.</li>
 * </ul>
 *
 * <p>Versions are {@code metadata.generation} (a status-only update rebuilds nothing), numbered per
 * incarnation: a deleted and re-created resource (a new uid, generation 1 again) counts on from
 * the last version its name had, so it is never taken for an old event.
 *
 * <p>Memory consistency effects: as {@link ClientCache}; in addition, actions in a thread before
 * {@link #acquire} <i>happen-before</i> the factory call that builds the client it waits for.
 *
 * @param <P> the custom resource (primary) type
 * @param <S> the spec type the client is built from
 * @param <C> the client type
 */
public final class ClientPerResource<P extends HasMetadata, S, C> implements AutoCloseable {
  /*
   * Concurrency: JOSDK never reconciles one resource on two threads at once, but reconciles of
   * different resources and Secret events run concurrently. `incarnations` numbers versions
   * atomically per key; `secretRebuilds` holds, per Secret, the rebuild its last change started,
   * until it completes; the cache does the rest.
   */
  private static final String SECRETS_SOURCE = "statewright-secrets";

  private final Class<P> primaryType;
  private final Function<? super P, ? extends S> specOf;
  private final Function<? super S, ? extends Collection<String>> secretsOf;
  private final Duration acquireTimeout;
  private final ClientCache<String, Desired<S>, C> cache;
  private final Incarnations incarnations = new Incarnations();
  private final ConcurrentMap<String, CompletableFuture<Void>> secretRebuilds =
      new ConcurrentHashMap<>();

  private ClientPerResource(Builder<P, S, C> builder) {
    this.primaryType = builder.primaryType;
    this.specOf = builder.specOf;
    this.secretsOf = builder.secretsOf;
    this.acquireTimeout = builder.acquireTimeout;
    ClientFactory<String, S, C> factory = builder.factory;
    ClientCache.Builder<String, Desired<S>, C> cacheBuilder = ClientCache
        .<String, Desired<S>, C>builder((key, desired) -> factory.build(key, desired.spec()))
        .name(primaryType.getSimpleName())
        .freshness(builder.freshness)
        .acquireTimeout(builder.acquireTimeout)
        .dependsOn(Desired::secretKeys);
    if (builder.changePolicy != null) {
      ChangePolicy<S> specPolicy = builder.changePolicy;
      cacheBuilder.changePolicy((before, after) -> specPolicy.classify(before.spec(), after.spec()));
    }
    if (builder.closer != null) {
      cacheBuilder.closer(builder.closer);
    }
    builder.cacheSettings.accept(cacheBuilder);
    this.cache = cacheBuilder.build();
  }

  /**
   * A builder for the clients of the custom resources of {@code primaryType}.
   *
   * @param primaryType the custom resource class the reconciler reconciles
   * @param spec derives the spec a client is built from, such as {@code PackageRepository::getSpec}
   * @param factory builds a client for a key ({@code namespace/name}) from a spec
   * @param <P> the custom resource type
   * @param <S> the spec type
   * @param <C> the client type
   * @return the builder
   */
  public static <P extends HasMetadata, S, C> Builder<P, S, C> builder(Class<P> primaryType,
      Function<? super P, ? extends S> spec, ClientFactory<String, S, C> factory) {
    return new Builder<>(primaryType, spec, factory);
  }

  /**
   * The key of {@code resource}: {@code namespace/name}, or {@code name} if cluster-scoped.
   *
   * @param resource any resource
   * @return its key
   */
  public static String keyOf(HasMetadata resource) {
    Objects.requireNonNull(resource, "resource");
    return key(resource.getMetadata().getNamespace(), resource.getMetadata().getName());
  }

  static String key(String namespace, String name) {
    return namespace == null || namespace.isEmpty() ? name : namespace + "/" + name;
  }

  /**
   * The event sources to return from {@code prepareEventSources}: an informer on the Secrets of
   * the controller's namespaces that rebuilds the clients reading a Secret whose data changed and
   * then triggers the reconciliation of their resources. Empty if no {@link Builder#secrets} were
   * named.
   *
   * @param context the context JOSDK passes to {@code prepareEventSources}
   * @return the event sources
   */
  public List<EventSource<?, P>> eventSources(EventSourceContext<P> context) {
    Objects.requireNonNull(context, "context");
    if (secretsOf == null) {
      return List.of();
    }
    InformerEventSourceConfiguration<Secret> secrets = InformerEventSourceConfiguration
        .from(Secret.class, primaryType)
        .withName(SECRETS_SOURCE)
        .withNamespacesInheritedFromController()
        .withPrimaryToSecondaryMapper((P primary) -> secretIds(primary))
        .withSecondaryToPrimaryMapper(this::readersOf)
        .build();
    return List.of(new SecretDependencySource<>(secrets, context, this::secretChanged));
  }

  /**
   * Records {@code primary}'s spec at its generation, waits until its client serves that
   * generation and every Secret change seen so far, and leases that client (read-your-writes).
   * For {@code reconcile}, which JOSDK runs on its own threads; close the lease when done.
   *
   * @param primary the resource being reconciled
   * @return a lease on a client built from this generation of the spec, or a newer one
   * @throws ClientUnavailableException if no such client is served within the acquire timeout;
   *     its cause is the last build error, if any
   * @throws CompletionException if building this generation failed; its cause is the factory's
   *     own exception (JOSDK retries the reconciliation)
   */
  public ClientLease<C> acquire(P primary) {
    CompletableFuture<ClientLease<C>> lease = acquireAsync(primary);
    try {
      return lease.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      lease.thenAccept(ClientLease::close);
      throw new CompletionException("interrupted while waiting for the client of "
          + keyOf(primary), e);
    } catch (ExecutionException e) {
      throw unchecked(e.getCause());
    }
  }

  /**
   * {@link #acquire} without blocking.
   *
   * @param primary the resource being reconciled
   * @return completes with the lease, or fails as {@code acquire} would throw
   */
  public CompletableFuture<ClientLease<C>> acquireAsync(P primary) {
    Objects.requireNonNull(primary, "primary");
    String key = keyOf(primary);
    Desired<S> desired = desired(primary);
    Incarnations.Advance advance = incarnations.advance(key, primary);
    CompletableFuture<?> written = advance.isNew()
        ? cache.upsert(key, desired, advance.version()) : CompletableFuture.completedFuture(null);
    CompletableFuture<ClientLease<C>> result = new CompletableFuture<>();
    written.whenComplete((served, failed) -> {
      if (failed != null) {
        result.completeExceptionally(failed);
      }
    });
    secretsRebuilt(desired)
        .thenCompose(rebuilt -> cache.acquireAsync(key, advance.version()))
        .whenComplete((lease, failed) -> {
          if (failed != null) {
            result.completeExceptionally(failed);
          } else if (!result.complete(lease)) {
            lease.close(); // the build of this generation failed first: nobody holds this lease
          }
        });
    return result;
  }

  /**
   * Removes {@code primary}'s entry; its client is closed once its last lease is. For
   * {@code cleanup} of a {@link Cleaner}.
   *
   * @param primary the resource being deleted
   * @return {@link DeleteControl#defaultDelete()}: JOSDK may remove its finalizer
   */
  public DeleteControl cleanup(P primary) {
    Objects.requireNonNull(primary, "primary");
    String key = keyOf(primary);
    cache.delete(key, incarnations.delete(key, primary));
    return DeleteControl.defaultDelete();
  }

  /**
   * The cache behind this: for {@code list()}, {@code snapshot(key)} and listeners.
   *
   * @return the cache
   */
  public ClientCache<String, Desired<S>, C> cache() {
    return cache;
  }

  /** Closes the cache: every client is closed after its last lease. Idempotent. */
  @Override
  public void close() {
    cache.close();
  }

  private Desired<S> desired(P primary) {
    S spec = Objects.requireNonNull(specOf.apply(primary), () -> "the spec of " + keyOf(primary));
    String namespace = Objects.requireNonNullElse(primary.getMetadata().getNamespace(), "");
    return new Desired<>(namespace, spec, secretNames(spec));
  }

  private Set<String> secretNames(S spec) {
    if (secretsOf == null) {
      return Set.of();
    }
    return secretsOf.apply(spec).stream().filter(Objects::nonNull).collect(Collectors.toSet());
  }

  private Set<ResourceID> secretIds(P primary) {
    String namespace = primary.getMetadata().getNamespace();
    return secretNames(specOf.apply(primary)).stream()
        .map(name -> new ResourceID(name, namespace)).collect(Collectors.toSet());
  }

  /** The resources whose desired spec reads {@code secret}. */
  private Set<ResourceID> readersOf(Secret secret) {
    String secretKey = keyOf(secret);
    return cache.list().stream()
        .filter(entry -> entry.desiredSpec().secretKeys().contains(secretKey))
        .map(entry -> resourceId(entry.key()))
        .collect(Collectors.toSet());
  }

  private static ResourceID resourceId(String key) {
    int slash = key.indexOf('/');
    return slash < 0 ? new ResourceID(key) : new ResourceID(key.substring(slash + 1),
        key.substring(0, slash));
  }

  private void secretChanged(Secret secret) {
    String secretKey = keyOf(secret);
    CompletableFuture<Void> rebuilt = cache.dependencyChanged(secretKey);
    secretRebuilds.put(secretKey, rebuilt);
    rebuilt.whenComplete((done, failed) -> secretRebuilds.remove(secretKey, rebuilt));
  }

  /** Completes when the rebuilds started by changes to the Secrets {@code desired} reads are done. */
  private CompletableFuture<Void> secretsRebuilt(Desired<S> desired) {
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    for (String secretKey : desired.secretKeys()) {
      CompletableFuture<Void> rebuilt = secretRebuilds.get(secretKey);
      if (rebuilt != null) {
        pending.add(rebuilt.exceptionally(failed -> null)); // acquire reports build failures
      }
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .completeOnTimeout(null, acquireTimeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  private static RuntimeException unchecked(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (cause instanceof RuntimeException runtime) {
      return runtime;
    }
    if (cause instanceof Error error) {
      throw error;
    }
    return new CompletionException(cause);
  }

  @Override
  public String toString() {
    return "ClientPerResource[" + primaryType.getSimpleName() + ", " + cache + "]";
  }

  /**
   * Configures a {@link ClientPerResource}.
   *
   * @param <P> the custom resource type
   * @param <S> the spec type
   * @param <C> the client type
   */
  public static final class Builder<P extends HasMetadata, S, C> {
    private final Class<P> primaryType;
    private final Function<? super P, ? extends S> specOf;
    private final ClientFactory<String, S, C> factory;
    private Function<? super S, ? extends Collection<String>> secretsOf;
    private Freshness freshness = Freshness.strict();
    private Duration acquireTimeout = Duration.ofSeconds(30);
    private ChangePolicy<S> changePolicy;
    private Consumer<? super C> closer;
    private Consumer<ClientCache.Builder<String, Desired<S>, C>> cacheSettings = cache -> { };

    private Builder(Class<P> primaryType, Function<? super P, ? extends S> specOf,
        ClientFactory<String, S, C> factory) {
      this.primaryType = Objects.requireNonNull(primaryType, "primaryType");
      this.specOf = Objects.requireNonNull(specOf, "spec");
      this.factory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * The Secrets a spec reads, by name in its resource's namespace: a change to one's data
     * rebuilds the clients of the resources that name it. Null names are ignored.
     *
     * @param secretNames the names of the Secrets a spec reads, such as
     *     {@code spec -> Set.of(spec.tokenSecret)}
     * @return this builder
     */
    public Builder<P, S, C> secrets(Function<? super S, ? extends Collection<String>> secretNames) {
      this.secretsOf = Objects.requireNonNull(secretNames, "secretNames");
      return this;
    }

    /**
     * How fresh a client must be for the cache's own {@code acquire}; {@link Freshness#strict()}
     * by default. {@link ClientPerResource#acquire} always waits for its generation.
     *
     * @param freshness the freshness policy
     * @return this builder
     */
    public Builder<P, S, C> freshness(Freshness freshness) {
      this.freshness = Objects.requireNonNull(freshness, "freshness");
      return this;
    }

    /**
     * How long {@link ClientPerResource#acquire} waits for a client; 30 s by default.
     *
     * @param acquireTimeout a duration, not negative
     * @return this builder
     */
    public Builder<P, S, C> acquireTimeout(Duration acquireTimeout) {
      Objects.requireNonNull(acquireTimeout, "acquireTimeout");
      if (acquireTimeout.isNegative()) {
        throw new IllegalArgumentException("acquireTimeout must not be negative, got "
            + acquireTimeout);
      }
      this.acquireTimeout = acquireTimeout;
      return this;
    }

    /**
     * Which spec changes rebuild a client; by default any change that {@code equals} sees.
     *
     * @param changePolicy classifies a change of spec
     * @return this builder
     */
    public Builder<P, S, C> changePolicy(ChangePolicy<S> changePolicy) {
      this.changePolicy = Objects.requireNonNull(changePolicy, "changePolicy");
      return this;
    }

    /**
     * Closes a replaced or removed client, once, after its last lease.
     *
     * @param closer closes a client
     * @return this builder
     */
    public Builder<P, S, C> closer(Consumer<? super C> closer) {
      this.closer = Objects.requireNonNull(closer, "closer");
      return this;
    }

    /**
     * Any other setting of the cache (backoff, build timeout, bulkhead, listeners), applied last.
     *
     * @param settings configures the cache's builder
     * @return this builder
     */
    public Builder<P, S, C> cache(Consumer<ClientCache.Builder<String, Desired<S>, C>> settings) {
      this.cacheSettings = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /**
     * The clients; JOSDK feeds them through the reconciler.
     *
     * @return a new {@link ClientPerResource}
     */
    public ClientPerResource<P, S, C> build() {
      return new ClientPerResource<>(this);
    }
  }
}
