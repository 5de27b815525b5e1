package dev.statewright.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Real informers of {@code delegate}, except that the first {@code failures} fail to start, as
 * they do while the API server is unreachable or refuses the list. Counts the informers made.
 */
final class FlakyInformable<T> implements Informable<T> {
  private final Informable<T> delegate;
  private final int failures;
  private final AtomicInteger made = new AtomicInteger();

  FlakyInformable(Informable<T> delegate, int failures) {
    this.delegate = delegate;
    this.failures = failures;
  }

  /** Informers made so far. */
  int made() {
    return made.get();
  }

  @Override
  public SharedIndexInformer<T> runnableInformer(long resync) {
    SharedIndexInformer<T> real = delegate.runnableInformer(resync);
    return made.incrementAndGet() <= failures ? failingToStart(real) : real;
  }

  @SuppressWarnings("unchecked")
  private static <T> SharedIndexInformer<T> failingToStart(SharedIndexInformer<T> real) {
    return (SharedIndexInformer<T>) Proxy.newProxyInstance(FlakyInformable.class.getClassLoader(),
        new Class<?>[] {SharedIndexInformer.class}, (proxy, method, args) -> {
          if (method.getName().equals("start")) {
            return CompletableFuture.failedFuture(new KubernetesClientException("injected: list refused"));
          }
          try {
            Object result = method.invoke(real, args);
            return result == real ? proxy : result; // chained calls keep the failing start
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  @Override
  @Deprecated // fabric8 deprecated it; unused here
  public Informable<T> withIndexers(Map<String, Function<T, List<String>>> indexers) {
    throw new UnsupportedOperationException();
  }

  @Override
  public Informable<T> withLimit(Long limit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public SharedIndexInformer<T> inform(ResourceEventHandler<? super T> handler, long resync) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletableFuture<List<T>> informOnCondition(Predicate<List<T>> condition) {
    throw new UnsupportedOperationException();
  }
}
