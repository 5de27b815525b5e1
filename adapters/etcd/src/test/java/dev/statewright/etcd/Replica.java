package dev.statewright.etcd;

import dev.statewright.cache.CacheListener;
import dev.statewright.cache.ClientCache;
import dev.statewright.cache.EntryEvent;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import dev.statewright.lifecycle.Transition;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * One controller replica: a {@link ClientCache} fed by an {@link EtcdEventSource} over its own
 * client, instrumented to catch what a replica must never do. On every transition of a key it
 * checks that the served version did not go back and that no key deleted at version d serves a
 * client from version d or older (a resurrection); between source and cache it checks that the
 * source never delivers an older revision of a key than before. Each check reads its bound before
 * taking the snapshot, so a truly monotone history never trips it.
 */
final class Replica implements AutoCloseable {
  final String name;
  final Client client;
  final ClientCache<String, String, String> cache;
  final List<String> violations = new CopyOnWriteArrayList<>();
  final AtomicInteger builds = new AtomicInteger();
  private final Set<String> specsDelivered = ConcurrentHashMap.newKeySet();
  private final Map<String, Long> servedAtLeast = new ConcurrentHashMap<>();
  private final Map<String, Long> deletedAt = new ConcurrentHashMap<>();
  private final Map<String, Long> deliveredAt = new ConcurrentHashMap<>();
  private final List<Waiting> waiting = new CopyOnWriteArrayList<>();

  Replica(String name, Client client, String prefix) {
    this(name, client, prefix, UnaryOperator.identity());
  }

  /** A replica whose source is changed by {@code tamper}, to prove that its checks bite. */
  Replica(String name, Client client, String prefix,
      UnaryOperator<EventSink<String, String>> tamper) {
    this.name = name;
    this.client = client;
    EventSource<String, String> source = EtcdEventSource
        .builder(client, prefix, (key, value) -> new String(value, StandardCharsets.UTF_8))
        .name(name)
        .build();
    EventSource<String, String> recorded = new EventSource<>() {
      @Override
      public void start(EventSink<String, String> sink) {
        source.start(tamper.apply(new RecordingSink(sink)));
      }

      @Override
      public void close() {
        source.close();
      }
    };
    CacheListener<String> checks = new CacheListener<>() {
      @Override
      public void onTransition(String key, Transition<EntryState, EntryEvent> transition) {
        check(key);
      }
    };
    this.cache = ClientCache.<String, String, String>builder((key, spec) -> {
          builds.incrementAndGet();
          // a real round trip to the store, as connecting a client costs one
          client.getKVClient().get(EtcdCluster.bytes(prefix + key)).get(30, TimeUnit.SECONDS);
          return key + "@" + spec;
        })
        .name(name)
        .listener(checks)
        .source(recorded)
        .build();
  }

  private void check(String key) {
    long atLeast = servedAtLeast.getOrDefault(key, 0L);
    long deleted = deletedAt.getOrDefault(key, 0L);
    cache.snapshot(key).ifPresent(snapshot -> {
      if (snapshot.state() == EntryState.REMOVED) {
        return;
      }
      snapshot.servedVersion().ifPresent(served -> {
        if (served < atLeast) {
          violations.add(name + ": " + key + " went back from version " + atLeast + " to "
              + served);
        }
        if (served <= deleted) {
          violations.add(name + ": " + key + " came back at version " + served
              + " after its delete at " + deleted);
        }
        servedAtLeast.merge(key, served, Math::max);
      });
    });
    waiting.forEach(Waiting::check);
  }

  /** The keys this replica serves, with the version each client was built from. */
  Map<String, Versioned<String>> served() {
    return cache.list().stream()
        .filter(s -> s.state() != EntryState.REMOVED && s.servedVersion().isPresent())
        .collect(Collectors.toMap(Snapshot::key,
            s -> Versioned.of(s.servedSpec().orElseThrow(), s.servedVersion().getAsLong())));
  }

  /** Waits, without polling, until {@link #served} equals {@code expected}; false on timeout. */
  boolean awaitServing(Map<String, Versioned<String>> expected, Duration timeout)
      throws InterruptedException {
    Waiting wait = new Waiting(served -> served.equals(expected));
    waiting.add(wait);
    try {
      wait.check();
      return wait.done.get(timeout.toNanos(), TimeUnit.NANOSECONDS) != null;
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
      return false;
    } finally {
      waiting.remove(wait);
    }
  }

  /** Whether a delete of {@code key} newer than {@code version} reached the cache. */
  boolean deletedAfter(String key, long version) {
    return deletedAt.getOrDefault(key, 0L) > version;
  }

  /** Distinct (key, revision) specs the source delivered: the work a naive cache would do. */
  int distinctSpecsDelivered() {
    return specsDelivered.size();
  }

  @Override
  public void close() {
    cache.close();
    client.close();
  }

  private final class Waiting {
    final Predicate<Map<String, Versioned<String>>> condition;
    final CompletableFuture<Boolean> done = new CompletableFuture<>();

    Waiting(Predicate<Map<String, Versioned<String>>> condition) {
      this.condition = condition;
    }

    void check() {
      if (!done.isDone() && condition.test(served())) {
        done.complete(true);
      }
    }
  }

  /** Passes everything through, checking and recording on the way. */
  private final class RecordingSink extends ForwardingSink {
    RecordingSink(EventSink<String, String> sink) {
      super(sink);
    }

    @Override
    public void upsert(String key, String spec, long version) {
      delivered(key, version);
      specsDelivered.add(key + "@" + version);
      sink.upsert(key, spec, version);
    }

    @Override
    public void delete(String key, long version) {
      delivered(key, version);
      sink.delete(key, version);
      deletedAt.merge(key, version, Math::max);
      check(key);
    }

    @Override
    public void resync(Map<String, Versioned<String>> all) {
      throw new AssertionError("the etcd source always knows its snapshot's revision");
    }

    @Override
    public void resync(Map<String, Versioned<String>> all, long asOfVersion) {
      all.forEach((key, spec) -> {
        long before = deliveredAt.getOrDefault(key, 0L);
        if (spec.version() > before) {
          delivered(key, spec.version());
          specsDelivered.add(key + "@" + spec.version());
        } else if (spec.version() < before) {
          violations.add(name + ": a resync delivered " + key + " at " + spec.version()
              + " after " + before);
        }
      });
      Set<String> gone = deliveredAt.keySet().stream()
          .filter(key -> !all.containsKey(key)).collect(Collectors.toSet());
      sink.resync(all, asOfVersion);
      gone.forEach(key -> {
        deletedAt.merge(key, asOfVersion, Math::max); // absent at asOf: deleted by then
        check(key);
      });
      waiting.forEach(Waiting::check);
    }

    private void delivered(String key, long version) {
      Long before = deliveredAt.put(key, version);
      if (before != null && before >= version) {
        violations.add(name + ": the source delivered " + key + " at " + version
            + " after " + before);
      }
    }
  }
}
