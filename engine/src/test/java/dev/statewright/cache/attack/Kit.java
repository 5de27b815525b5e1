package dev.statewright.cache.attack;

import dev.statewright.cache.ClientFactory;
import dev.statewright.time.Scheduler;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the attacks share: a spec that carries a secret, a client that counts its closes, a factory
 * that remembers every client it built, and a real-thread scheduler a test can shut down.
 * Everything here sees only the public API of {@code dev.statewright.cache}.
 */
final class Kit {
  private Kit() { }

  static final Duration WAIT = Duration.ofSeconds(20);

  /** A spec whose {@code toString} shows its secret, as a careless user's record would. */
  record Spec(long v, String secret) {
    static Spec of(long v) {
      return new Spec(v, "SECRET-TOKEN-" + v);
    }
  }

  /** A client: which key and spec it was built from, and how often it was closed. */
  static final class Client implements AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();
    final int id = IDS.incrementAndGet();
    final String key;
    final Spec spec;
    final AtomicInteger closes = new AtomicInteger();
    final CompletableFuture<Void> closed = new CompletableFuture<>();

    Client(String key, Spec spec) {
      this.key = key;
      this.spec = spec;
    }

    boolean isClosed() {
      return closes.get() > 0;
    }

    @Override
    public void close() {
      closes.incrementAndGet();
      closed.complete(null);
    }

    @Override
    public String toString() {
      return "Client#" + id + "[" + key + " v" + spec.v() + "]";
    }
  }

  /** Builds clients at once and remembers each. */
  static class Factory implements ClientFactory<String, Spec, Client> {
    final Queue<Client> built = new ConcurrentLinkedQueue<>();

    @Override
    public Client build(String key, Spec spec) throws Exception {
      Client c = new Client(key, spec);
      built.add(c);
      return c;
    }

    List<Client> built() {
      return List.copyOf(built);
    }

    /** Waits until every client built so far is closed. */
    void awaitAllClosed() throws Exception {
      CompletableFuture.allOf(built.stream().map(c -> c.closed).toArray(CompletableFuture[]::new))
          .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  /** A real-thread scheduler owned by one test. */
  static final class Threads implements Scheduler, AutoCloseable {
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "attack-worker");
      t.setDaemon(true);
      return t;
    });
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "attack-timer");
      t.setDaemon(true);
      return t;
    });

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public void execute(Runnable task) {
      workers.execute(task);
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      ScheduledFuture<?> f = timer.schedule(() -> workers.execute(task),
          Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    }

    @Override
    public void close() {
      timer.shutdownNow();
      workers.shutdownNow();
    }
  }

  static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }
}
