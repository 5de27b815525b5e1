package dev.statewright.etcd;

import dev.statewright.cache.ClientCache;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.Versioned;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/** A replica: a cache fed by an etcd source over its own client. */
final class ReadReplica implements AutoCloseable {
  final String name;
  final Client client;
  final ClientCache<String, String, String> cache;
  /** Listings delivered: 1 at start, one more for each relist (after a compacted watch). */
  final AtomicInteger listings = new AtomicInteger();

  ReadReplica(String name, Client client, String prefix,
      UnaryOperator<EventSink<String, String>> tamper) {
    this.name = name;
    this.client = client;
    EventSource<String, String> source = EtcdEventSource
        .builder(client, prefix, (key, value) -> new String(value, StandardCharsets.UTF_8))
        .name(name)
        .progressInterval(Duration.ofMillis(100))
        .requestTimeout(Duration.ofSeconds(5))
        .build();
    this.cache = ClientCache.<String, String, String>builder((key, spec) -> spec)
        .name(name)
        .acquireTimeout(Duration.ofSeconds(10))
        .source(new EventSource<>() {
          @Override
          public void start(EventSink<String, String> sink) {
            source.start(tamper.apply(new ForwardingSink(sink) {
              @Override
              public void resync(Map<String, Versioned<String>> all, long asOfVersion) {
                listings.incrementAndGet();
                sink.resync(all, asOfVersion);
              }
            }));
          }

          @Override
          public boolean reportsProgress() {
            return true;
          }

          @Override
          public CompletableFuture<Long> currentVersion() {
            return source.currentVersion();
          }

          @Override
          public void close() {
            source.close();
          }
        })
        .build();
  }

  @Override
  public void close() {
    cache.close();
    client.close();
  }
}
