package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Issue 16: a builder given its own {@code Scheduler} never creates the shared system scheduler
 * (whose timer thread would otherwise start for nothing). Run in a class loader of its own, so
 * the system scheduler other tests created does not count.
 */
class LazySchedulerTest {

  @Test
  void aCacheWithItsOwnSchedulerNeverStartsTheSystemTimer() throws Exception {
    URL engine = ClientCache.class.getProtectionDomain().getCodeSource().getLocation();
    try (URLClassLoader isolated = new URLClassLoader(new URL[] {engine},
        ClassLoader.getPlatformClassLoader())) {
      Class<?> schedulerType = isolated.loadClass("dev.statewright.time.Scheduler");
      Class<?> factoryType = isolated.loadClass("dev.statewright.cache.ClientFactory");
      Class<?> cacheType = isolated.loadClass("dev.statewright.cache.ClientCache");
      AtomicBoolean used = new AtomicBoolean();
      Object scheduler = proxy(isolated, schedulerType, (p, m, args) -> {
        used.set(true);
        return m.getName().equals("nanoTime") ? 0L : null;
      });
      Object factory = proxy(isolated, factoryType, (p, m, args) -> "client");
      long timersBefore = timerThreads();

      Object builder = cacheType.getMethod("builder", factoryType).invoke(null, factory);
      builder = builder.getClass().getMethod("scheduler", schedulerType).invoke(builder, scheduler);
      Object cache = builder.getClass().getMethod("build").invoke(builder);
      cacheType.getMethod("close").invoke(cache);

      assertThat(timerThreads()).as("no system timer started").isEqualTo(timersBefore);
    }
  }

  @Test
  void aLeasedResourceWithoutASchedulerNeverStartsTheSystemTimer() throws Exception {
    URL engine = ClientCache.class.getProtectionDomain().getCodeSource().getLocation();
    try (Isolated isolated = new Isolated(engine)) {
      Class<?> resourceType = isolated.loadClass("dev.statewright.lease.LeasedResource");
      long timersBefore = timerThreads();

      Consumer<Object> release = value -> { };
      Object resource = resourceType.getMethod("of", String.class, Object.class, Consumer.class)
          .invoke(null, "repo", "client", release);
      Object lease = resourceType.getMethod("acquire", String.class).invoke(resource, "reader");
      resourceType.getMethod("retire").invoke(resource);
      lease.getClass().getMethod("close").invoke(lease);

      assertThat(resourceType.getMethod("state").invoke(resource)).hasToString("RELEASED");
      assertThat(timerThreads()).as("no system timer started").isEqualTo(timersBefore);
      assertThat(isolated.loaded("dev.statewright.time.SystemScheduler"))
          .as("the system scheduler's class, never even loaded").isFalse();
    }
  }

  private static Object proxy(ClassLoader loader, Class<?> type, InvocationHandler handler) {
    return Proxy.newProxyInstance(loader, new Class<?>[] {type}, (p, m, args) ->
        m.getDeclaringClass() == Object.class ? objectMethod(p, m, args) : handler.invoke(p, m, args));
  }

  private static Object objectMethod(Object proxy, Method m, Object[] args) {
    return switch (m.getName()) {
      case "hashCode" -> System.identityHashCode(proxy);
      case "equals" -> proxy == args[0];
      default -> "proxy";
    };
  }

  /** A loader of the engine alone, which says whether it loaded a class. */
  private static final class Isolated extends URLClassLoader {
    Isolated(URL engine) {
      super(new URL[] {engine}, ClassLoader.getPlatformClassLoader());
    }

    boolean loaded(String name) {
      return findLoadedClass(name) != null;
    }
  }

  private static long timerThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("statewright-timer")).count();
  }
}
