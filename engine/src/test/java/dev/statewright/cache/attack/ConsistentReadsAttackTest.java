package dev.statewright.cache.attack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.ClientCache;
import dev.statewright.cache.ClientLease;
import dev.statewright.cache.ClientUnavailableException;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.event.ManualEventSource;
import dev.statewright.testing.ManualScheduler;
import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attacks {@code acquireAsOf} and {@code acquireConsistent} from outside, with sources whose
 * progress and current version are hostile: a current version that never comes, throws, is null
 * or absurd, progress that goes backwards, a read that can never be reached.
 */
class ConsistentReadsAttackTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final ManualScheduler scheduler = new ManualScheduler();
  private ClientCache<String, String, String> cache;

  /** A source that delivers what the test gives it and answers currentVersion as told. */
  static final class HostileSource implements EventSource<String, String> {
    volatile EventSink<String, String> sink;
    volatile Supplier<CompletableFuture<Long>> current = CompletableFuture::new;

    @Override
    public void start(EventSink<String, String> sink) {
      this.sink = sink;
    }

    @Override
    public boolean reportsProgress() {
      return true;
    }

    @Override
    public CompletableFuture<Long> currentVersion() {
      return current.get();
    }

    @Override
    public void close() { }
  }

  private ClientCache<String, String, String> cache(EventSource<String, String> source) {
    cache = ClientCache.<String, String, String>builder((key, spec) -> key + "=" + spec)
        .name("attacked").scheduler(scheduler).acquireTimeout(TIMEOUT).source(source).build();
    scheduler.runAll();
    return cache;
  }

  @AfterEach
  void tearDown() {
    if (cache != null) {
      cache.close();
    }
    scheduler.runAll();
  }

  private static Throwable failure(CompletableFuture<?> f) {
    assertThat(f).as("the read is over").isDone();
    try {
      f.join();
      return null;
    } catch (CompletionException e) {
      return e.getCause();
    } catch (java.util.concurrent.CancellationException e) {
      return e;
    }
  }

  private HostileSource ready() {
    HostileSource source = new HostileSource();
    cache(source);
    source.sink.upsert("redis", "one", 3);
    source.sink.progress(3);
    scheduler.runAll();
    return source;
  }

  // acquireConsistent: "completes as acquireAsOf does" — which "fails ... with
  // ClientUnavailableException after the acquire timeout". A current version that never comes
  // must not hold the read past it.
  @Test
  void aCurrentVersionThatNeverComesFailsTheReadAtTheAcquireTimeout() {
    HostileSource source = ready();
    source.current = CompletableFuture::new;
    CompletableFuture<ClientLease<String>> read = cache.acquireConsistent("redis");
    scheduler.advance(TIMEOUT.plusSeconds(1));
    assertThat(failure(read)).isInstanceOf(ClientUnavailableException.class);
  }

  /** acquireConsistent with a current version that throws {@code t}: the read must fail, later reads work. */
  private void currentVersionThrows(Throwable t) {
    HostileSource source = ready();
    source.current = () -> {
      throw ConsistentReadsAttackTest.<RuntimeException>sneaky(t);
    };
    CompletableFuture<ClientLease<String>> read;
    try {
      read = cache.acquireConsistent("redis");
    } catch (Throwable thrown) {
      throw new AssertionError("acquireConsistent threw instead of failing its future", thrown);
    }
    scheduler.advance(TIMEOUT.plusSeconds(1));
    assertThat(failure(read)).as("%s", t).isNotNull();
    source.current = () -> CompletableFuture.completedFuture(3L);
    CompletableFuture<ClientLease<String>> ok = cache.acquireConsistent("redis");
    scheduler.runAll();
    assertThat(ok.join().get()).isEqualTo("redis=one");
    ok.join().close();
  }

  // acquireConsistent "@return completes as acquireAsOf does": a source whose currentVersion
  // throws fails that read's future; the next read works.
  @Test
  void aCurrentVersionThatThrowsAnExceptionFailsOnlyThatRead() {
    currentVersionThrows(new IllegalStateException("quorum lost"));
  }

  // DESIGN liveness: "Nothing a ... source ... does — block, throw any Throwable ... — stalls
  // another key"; "Every user callback runs ... isolated from the engine".
  @Test
  void aCurrentVersionThatThrowsAnErrorFailsOnlyThatRead() {
    currentVersionThrows(new AssertionError("bug"));
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E sneaky(Throwable t) throws E {
    throw (E) t;
  }

  // A current version that is null is garbage: the read fails (by its timeout at the latest)
  // rather than hang or be served unchecked.
  @Test
  void aNullCurrentVersionFailsTheRead() {
    HostileSource source = ready();
    for (Long garbage : new Long[] {null}) {
      source.current = () -> CompletableFuture.completedFuture(garbage);
      CompletableFuture<ClientLease<String>> read = cache.acquireConsistent("redis");
      scheduler.advance(TIMEOUT.plusSeconds(1));
      assertThat(failure(read)).as("current version %s", garbage).isNotNull();
    }
  }

  // EventSink.progress: "a report lower than an earlier one says nothing new and is ignored";
  // "Progress never goes back".
  @Test
  void progressThatGoesBackwardsIsIgnored() {
    HostileSource source = ready();
    source.sink.progress(10);
    source.sink.progress(4);
    source.sink.progress(Long.MIN_VALUE);
    scheduler.runAll();
    CompletableFuture<ClientLease<String>> read = cache.acquireAsOf("redis", 9);
    scheduler.runAll();
    assertThat(read).isDone();
    assertThat(read.join().get()).isEqualTo("redis=one");
    read.join().close();
  }

  // acquireAsOf: "fails ... with ClientUnavailableException after the acquire timeout" — a version
  // the source never reaches.
  @Test
  void aVersionNeverReachedFailsAtTheAcquireTimeoutNotBefore() {
    ready();
    CompletableFuture<ClientLease<String>> read = cache.acquireAsOf("redis", Long.MAX_VALUE);
    scheduler.advance(TIMEOUT.minusMillis(1));
    assertThat(read).as("before the timeout").isNotDone();
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(failure(read)).isInstanceOf(ClientUnavailableException.class);
  }

  // acquireAsOf: "fails with NoSuchElementException if the key did not exist as of then"; a key
  // deleted before the version read.
  @Test
  void aKeyDeletedBeforeTheVersionReadIsNoSuchElement() {
    HostileSource source = ready();
    source.sink.delete("redis", 5);
    source.sink.progress(6);
    scheduler.runAll();
    CompletableFuture<ClientLease<String>> read = cache.acquireAsOf("redis", 6);
    scheduler.advance(TIMEOUT.plusSeconds(1));
    assertThat(failure(read)).isInstanceOf(NoSuchElementException.class);
  }

  // A current version whose completion closes the cache (a callback calling back in): the read
  // ends, by failing, and closing does not hang.
  @Test
  void aCurrentVersionThatClosesTheCacheEndsTheRead() {
    HostileSource source = ready();
    source.current = () -> {
      CompletableFuture<Long> f = new CompletableFuture<>();
      scheduler.execute(() -> {
        cache.close();
        f.complete(3L);
      });
      return f;
    };
    CompletableFuture<ClientLease<String>> read = cache.acquireConsistent("redis");
    scheduler.advance(TIMEOUT.plusSeconds(1));
    assertThat(read).isDone();
    if (!read.isCompletedExceptionally()) {
      ClientLease<String> lease = read.join();
      lease.close();
    }
  }

  // ManualEventSource.currentVersion: "fails unsupported before the first" storeVersion;
  // acquireConsistent: "fails with UnsupportedOperationException if the source cannot read its
  // current version".
  @Test
  void aSourceThatCannotReadItsCurrentVersionFailsTheReadUnsupported() {
    ManualEventSource<String, String> manual = new ManualEventSource<>();
    cache(manual);
    manual.upsert("redis", "one", 1);
    manual.progress(1);
    scheduler.runAll();
    CompletableFuture<ClientLease<String>> read = cache.acquireConsistent("redis");
    scheduler.advance(TIMEOUT.plusSeconds(1));
    assertThat(failure(read)).isInstanceOf(UnsupportedOperationException.class);
    manual.storeVersion(1);
    manual.storeVersion(0);
    CompletableFuture<ClientLease<String>> again = cache.acquireConsistent("redis");
    scheduler.runAll();
    assertThat(again.join().get()).isEqualTo("redis=one");
    again.join().close();
  }
}
