package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.TestClients.Client;
import dev.statewright.cache.TestClients.Factory;
import dev.statewright.cache.TestClients.Repo;
import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import dev.statewright.lifecycle.Transition;
import dev.statewright.testing.ManualScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the cache tells operators through its logger ({@code System.Logger}, here backed by
 * java.util.logging): a failed transition at WARNING with its error, the others at DEBUG, and
 * every piece of user code that failed (listener, closer, source start, source close, a bad event,
 * finishing a build) at WARNING or ERROR, prefixed with the cache's name and carrying what was thrown.
 */
class CacheLoggingTest {
  private static final String CACHE = "dev.statewright.cache.ClientCache";
  private static final String SOURCES = "dev.statewright.cache.SourceSupervisor";

  private final ManualScheduler scheduler = new ManualScheduler();
  private final List<LogRecord> records = new ArrayList<>();
  private final List<Logger> loggers = List.of(Logger.getLogger(CACHE), Logger.getLogger(SOURCES));
  private final List<Level> levels = new ArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      synchronized (records) {
        records.add(record);
      }
    }

    @Override
    public void flush() { }

    @Override
    public void close() { }
  };
  private final List<AutoCloseable> closeAfter = new ArrayList<>();

  @BeforeEach
  void capture() {
    for (Logger logger : loggers) {
      levels.add(logger.getLevel());
      logger.setLevel(Level.ALL);
      logger.addHandler(capture);
    }
  }

  @AfterEach
  void release() throws Exception {
    for (AutoCloseable c : closeAfter) {
      c.close();
    }
    for (int i = 0; i < loggers.size(); i++) {
      loggers.get(i).removeHandler(capture);
      loggers.get(i).setLevel(levels.get(i));
    }
  }

  private ClientCache.Builder<String, Repo, Client> builder(AsyncClientFactory<String, Repo, Client> f) {
    return ClientCache.asyncBuilder(f).name("logged").scheduler(scheduler)
        .backoff(Backoff.fixed(Duration.ofMinutes(1)));
  }

  private ClientCache<String, Repo, Client> closing(ClientCache<String, Repo, Client> cache) {
    closeAfter.add(cache);
    return cache;
  }

  private List<LogRecord> logged(String logger, Level level, String message) {
    synchronized (records) {
      return records.stream().filter(r -> r.getLoggerName().equals(logger) && r.getLevel().equals(level)
          && r.getMessage().equals(message)).toList();
    }
  }

  @Test
  void aFailedBuildIsAWarningWithItsErrorAndOtherTransitionsAreDebug() {
    IOException down = new IOException("down");
    closing(builder((key, spec) -> CompletableFuture.failedFuture(down)).build())
        .upsert("redis", new Repo("https://r"), 1);

    assertThat(logged(CACHE, Level.FINE, "logged 'redis': STALE --BUILD_STARTED--> REBUILDING")).hasSize(1);
    assertThat(logged(CACHE, Level.WARNING,
        "logged 'redis': REBUILDING --BUILD_FAILED--> STALE (java.io.IOException: down)")).hasSize(1);
  }

  @Test
  void aThrowingListenerAndAThrowingCloserAreLoggedWithWhatTheyThrew() throws Exception {
    IllegalStateException fromListener = new IllegalStateException("listener");
    AutoCloseable refusing = () -> {
      throw new IllegalStateException("close refused");
    };
    try (ClientCache<String, Repo, AutoCloseable> cache = ClientCache.<String, Repo, AutoCloseable>asyncBuilder(
        (key, spec) -> CompletableFuture.completedFuture(refusing)).name("logged").scheduler(scheduler)
        .listener(new CacheListener<>() {
          @Override
          public void onTransition(String key, Transition<EntryState, EntryEvent> t) {
            throw fromListener;
          }
        }).build()) {
      cache.upsert("redis", new Repo("https://r"), 1);
      cache.delete("redis", 2); // the default closer closes the client, which throws
    }

    assertThat(logged(CACHE, Level.WARNING, "logged: a listener failed"))
        .isNotEmpty().allSatisfy(r -> assertThat(r.getThrown()).isSameAs(fromListener));
    assertThat(logged(CACHE, Level.WARNING, "closing a client failed")).singleElement()
        .satisfies(r -> assertThat(r.getThrown()).hasMessage("close refused"));
  }

  @Test
  void aSourceThatFailsToStartOrToCloseAndItsBadEventsAreLogged() {
    AtomicReference<EventSink<String, Repo>> sink = new AtomicReference<>();
    AtomicInteger starts = new AtomicInteger();
    EventSource<String, Repo> source = new EventSource<>() {
      @Override
      public void start(EventSink<String, Repo> s) {
        if (starts.getAndIncrement() == 0) {
          throw new IllegalStateException("not yet");
        }
        sink.set(s);
      }

      @Override
      public void close() {
        throw new IllegalStateException("close failed");
      }

      @Override
      public String toString() {
        return "flaky";
      }
    };
    ClientCache<String, Repo, Client> cache = builder(
        (key, spec) -> CompletableFuture.completedFuture(new Client(key, spec, 1))).source(source).build();
    scheduler.advance(Duration.ofMinutes(1));
    cache.upsert("k1", new Repo("https://k"), 1);
    sink.get().upsert("k1", new Repo("https://k"), -1);
    sink.get().resync(null);
    cache.close();

    assertThat(logged(SOURCES, Level.WARNING, "logged: flaky failed to start"
        + " (java.lang.IllegalStateException: not yet); restarting in PT1M")).hasSize(1);
    assertThat(logged(SOURCES, Level.WARNING, "logged: ignored a bad upsert of 'k1' from a source:"
        + " java.lang.IllegalArgumentException: version of 'k1' must be >= 0, got -1")).hasSize(1);
    assertThat(logged(SOURCES, Level.WARNING, "logged: ignored a bad resync from a source:"
        + " java.lang.NullPointerException: all")).hasSize(1);
    assertThat(logged(CACHE, Level.WARNING, "logged: rejected a spec for 'k1':"
        + " version of 'k1' must be >= 0, got -1")).hasSize(1);
    assertThat(logged(SOURCES, Level.WARNING, "logged: closing flaky failed")).singleElement()
        .satisfies(r -> assertThat(r.getThrown()).hasMessage("close failed"));
  }

  @Test
  void finishingABuildThatThrowsIsAnErrorAndTheBuildFails() {
    AtomicInteger delays = new AtomicInteger();
    IllegalStateException refused = new IllegalStateException("backoff refused");
    closing(ClientCache.<String, Repo, Client>asyncBuilder(
        (key, spec) -> CompletableFuture.failedFuture(new IOException("down")))
        .name("logged").scheduler(scheduler)
        .backoff((failures, random) -> {
          if (delays.getAndIncrement() == 0) {
            throw refused;
          }
          return Duration.ofMinutes(1);
        }).build()).upsert("redis", new Repo("https://r"), 1);

    assertThat(logged(CACHE, Level.SEVERE, "logged: finishing the build of 'redis' failed"))
        .singleElement().satisfies(r -> assertThat(r.getThrown()).isSameAs(refused));
  }
}
