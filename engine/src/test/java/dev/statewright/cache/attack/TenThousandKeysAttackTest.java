package dev.statewright.cache.attack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.EntryState;
import dev.statewright.cache.Snapshot;
import dev.statewright.cache.attack.Kit.Client;
import dev.statewright.cache.attack.Kit.Factory;
import dev.statewright.cache.attack.Kit.Spec;
import dev.statewright.cache.attack.Kit.Threads;
import dev.statewright.event.Versioned;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Attack 3, continued: 10,000 keys through upsert, list, acquire, replace, resync and close. */
class TenThousandKeysAttackTest {
  private static final int KEYS = 10_000;
  private final Threads scheduler = new Threads();
  private final Factory factory = new Factory();
  private final ClientCache<String, Spec, Client> cache = ClientCache.builder(factory)
      .name("attack-many").scheduler(scheduler).maxConcurrentBuilds(4).build();

  @AfterEach
  void tearDown() {
    cache.close();
    scheduler.close();
  }

  private static String key(int i) {
    return "key-" + i;
  }

  @Test
  void tenThousandKeys() throws Exception {
    List<CompletableFuture<Snapshot<String, Spec, Client>>> upserts = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      upserts.add(cache.upsert(key(i), Spec.of(1), 1));
    }
    CompletableFuture.allOf(upserts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    List<Snapshot<String, Spec, Client>> listed = cache.list();
    assertThat(listed).hasSize(KEYS).allSatisfy(s -> {
      assertThat(s.state()).isEqualTo(EntryState.CURRENT);
      assertThat(s.servedVersion()).hasValue(1);
      assertThat(s.openLeases()).isZero();
    });
    assertThat(listed.stream().map(Snapshot::key).distinct()).hasSize(KEYS);
    assertThat(cache.footprint().permitsAvailable()).isEqualTo(4);
    List<ClientLease<Client>> leases = new ArrayList<>();
    for (int i = 0; i < KEYS; i += 2) {
      leases.add(cache.acquire(key(i)));
    }
    assertThat(cache.list().stream().mapToInt(Snapshot::openLeases).sum()).isEqualTo(KEYS / 2);
    // replace every key while half are leased
    List<CompletableFuture<?>> replaced = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      replaced.add(cache.upsert(key(i), Spec.of(2), 2));
    }
    CompletableFuture.allOf(replaced.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    List<Snapshot<String, Spec, Client>> after = cache.list();
    assertThat(after.stream().mapToInt(Snapshot::retiredClientsInUse).sum()).isEqualTo(KEYS / 2);
    assertThat(after.stream().mapToInt(Snapshot::openLeases).sum()).isZero();
    for (ClientLease<Client> l : leases) {
      assertThat(l.isCurrent()).isFalse();
      assertThat(l.get().isClosed()).isFalse();
      l.close();
    }
    assertThat(cache.list().stream().mapToInt(Snapshot::retiredClientsInUse).sum()).isZero();
    // resync keeping the odd keys: the even ones are deleted
    Map<String, Versioned<Spec>> odd = new HashMap<>();
    for (int i = 1; i < KEYS; i += 2) {
      odd.put(key(i), new Versioned<>(Spec.of(2), 2));
    }
    cache.resync(odd, 3);
    List<CompletableFuture<?>> check = new ArrayList<>();
    for (int i = 0; i < KEYS; i += 2) {
      check.add(cache.acquireAsync(key(i)).handle((l, e) -> {
        assertThat(e).as("even key still served after resync").isNotNull();
        return null;
      }));
    }
    CompletableFuture.allOf(check.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    assertThat(cache.list()).hasSize(KEYS / 2)
        .allSatisfy(s -> assertThat(Integer.parseInt(s.key().substring(4)) % 2).isEqualTo(1));
    cache.close();
    assertThat(cache.list()).isEmpty();
    factory.awaitAllClosed();
    assertThat(factory.built()).hasSize(2 * KEYS)
        .allSatisfy(c -> assertThat(c.closes.get()).isEqualTo(1));
  }
}
