package dev.statewright.cache;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.lease.Lease;
import dev.statewright.lease.LeasedResource;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What the stress tests drive: the real {@link ClientCache}, or one of the deliberately broken
 * caches below, each reproducing one bug class the checks must catch.
 */
interface RepoCache extends AutoCloseable {
  CompletableFuture<?> upsert(String key, Repo spec, long version);

  Lease<Client> acquire(String key);

  @Override
  void close();

  /** The engine under test. */
  static RepoCache real(Factory factory) {
    ClientCache<String, Repo, Client> cache = ClientCache.builder(factory).name("stress").build();
    return new RepoCache() {
      @Override
      public CompletableFuture<?> upsert(String key, Repo spec, long version) {
        return cache.upsert(key, spec, version);
      }

      @Override
      public Lease<Client> acquire(String key) {
        return cache.acquire(key);
      }

      @Override
      public void close() {
        cache.close();
      }
    };
  }

  /** Base of the broken caches: a map of leased clients, replaced without any state machine. */
  abstract class Broken implements RepoCache {
    final Factory factory;
    final Map<String, LeasedResource<Client>> clients = new ConcurrentHashMap<>();
    final Map<String, Long> versions = new ConcurrentHashMap<>();

    Broken(Factory factory) {
      this.factory = factory;
    }

    Client build(String key, Repo spec) {
      try {
        return factory.build(key, spec);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    void install(String key, Client client, long version) {
      versions.put(key, version);
      LeasedResource<Client> old = clients.put(key, LeasedResource.of(key, client, Client::close));
      if (old != null) {
        old.retire();
      }
    }

    @Override
    public Lease<Client> acquire(String key) {
      for (;;) {
        LeasedResource<Client> resource = clients.get(key);
        if (resource == null) {
          throw new NoSuchElementException(key);
        }
        try {
          return resource.acquire(Thread.currentThread().getName());
        } catch (RuntimeException replaced) {
          // try the newer one
        }
      }
    }

    @Override
    public void close() {
      clients.values().forEach(LeasedResource::retire);
    }
  }

  /** C1 broken: every upsert builds at once on its own thread, concurrently with the others. */
  static RepoCache withoutSingleFlight(Factory factory) {
    return new Broken(factory) {
      @Override
      public CompletableFuture<?> upsert(String key, Repo spec, long version) {
        Client client = build(key, spec);
        synchronized (this) {
          if (version > versions.getOrDefault(key, -1L)) {
            install(key, client, version);
          } else {
            client.close();
          }
        }
        return CompletableFuture.completedFuture(null);
      }
    };
  }

  /** C2 broken: whatever arrives last is served, even an older version. */
  static RepoCache lastArrivalWins(Factory factory) {
    return new Broken(factory) {
      @Override
      public synchronized CompletableFuture<?> upsert(String key, Repo spec, long version) {
        install(key, build(key, spec), version);
        return CompletableFuture.completedFuture(null);
      }
    };
  }

  /** C3 broken: one build per update, queued, none coalesced. */
  static RepoCache rebuildPerUpdate(Factory factory) {
    ExecutorService builder = Executors.newSingleThreadExecutor();
    return new Broken(factory) {
      @Override
      public CompletableFuture<?> upsert(String key, Repo spec, long version) {
        return CompletableFuture.runAsync(() -> {
          if (version > versions.getOrDefault(key, -1L)) {
            install(key, build(key, spec), version);
          }
        }, builder);
      }

      @Override
      public void close() {
        builder.shutdown();
        super.close();
      }
    };
  }

  /** C4 broken: the upsert's future completes before the build, so a reader may see the old client. */
  static RepoCache completesEarly(Factory factory) {
    ExecutorService builder = Executors.newSingleThreadExecutor();
    return new Broken(factory) {
      @Override
      public CompletableFuture<?> upsert(String key, Repo spec, long version) {
        builder.execute(() -> {
          synchronized (this) {
            if (version > versions.getOrDefault(key, -1L)) {
              install(key, build(key, spec), version);
            }
          }
        });
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public void close() {
        builder.shutdown();
        super.close();
      }
    };
  }

  /** C6 broken: a replaced client is closed at once, leases or not. */
  static RepoCache closesWhileLeased(Factory factory) {
    return new Broken(factory) {
      @Override
      public synchronized CompletableFuture<?> upsert(String key, Repo spec, long version) {
        if (version > versions.getOrDefault(key, -1L)) {
          LeasedResource<Client> old = clients.get(key);
          Lease<Client> previous = old == null ? null : old.acquire("owner");
          install(key, build(key, spec), version);
          if (previous != null) {
            previous.get().close(); // the bug: close now, not after the last lease
            previous.close();
          }
        }
        return CompletableFuture.completedFuture(null);
      }
    };
  }
}
