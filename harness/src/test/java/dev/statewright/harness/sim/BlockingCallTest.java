package dev.statewright.harness.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.statewright.cache.ClientCache;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A blocking call on the simulated scheduler fails at once, naming the call and where it was made
 * and saying to use the async form: it used to deadlock silently, and JUnit's {@code @Timeout}
 * could not end it (a {@code join} ignores interrupts).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS) // a regression would hang; it must fail instead
class BlockingCallTest {
  private final SimulatedScheduler scheduler = new SimulatedScheduler(7, Strategy.random());

  @Test
  void acquireInATaskFailsNamingTheCallAndTheAsyncForm() {
    try (ClientCache<String, String, String> cache = ClientCache
        .<String, String, String>asyncBuilder((key, spec) -> new CompletableFuture<>())
        .scheduler(scheduler)
        .build()) {
      cache.upsert("repo", "v1", 1); // a build that never finishes: acquire would wait forever
      scheduler.execute(() -> cache.acquire("repo").close(), "command that acquires");

      BlockingCallException failure = assertThrows(BlockingCallException.class,
          () -> scheduler.run(Duration.ofMinutes(1), 1_000));

      assertTrue(failure.getMessage().startsWith("blocking call ClientCache.acquire() in step"),
          failure.getMessage());
      assertTrue(failure.getMessage().contains("(command that acquires)"), failure.getMessage());
      assertTrue(failure.getMessage().contains("acquireAsync"), failure.getMessage());
      assertTrue(failure.getMessage().contains(BlockingCallTest.class.getName()),
          "says where the call was made: " + failure.getMessage());
    }
  }

  @Test
  void joinAndGetFailAtOnce() {
    CompletableFuture<String> never = new CompletableFuture<>();
    scheduler.execute(never::join, "join");
    BlockingCallException join = assertThrows(BlockingCallException.class,
        () -> scheduler.run(Duration.ofMinutes(1), 10));
    assertTrue(join.getMessage().startsWith("blocking call CompletableFuture.join()"),
        join.getMessage());
    assertTrue(join.getMessage().contains("thenCompose"), join.getMessage());

    scheduler.execute(() -> {
      try {
        never.get(1, TimeUnit.HOURS);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "get");
    BlockingCallException get = assertThrows(BlockingCallException.class,
        () -> scheduler.run(Duration.ofMinutes(1), 10));
    assertTrue(get.getMessage().startsWith("blocking call CompletableFuture.get()"),
        get.getMessage());
  }

  @Test
  void aBlockingCallIsReportedEvenIfTheTaskSwallowsItsFailure() {
    scheduler.execute(() -> {
      try {
        new CompletableFuture<Void>().join();
      } catch (RuntimeException swallowed) {
        // user code that catches everything must not hide the deadlock it asked for
      }
    }, "careless");
    BlockingCallException failure = assertThrows(BlockingCallException.class,
        () -> scheduler.run(Duration.ofMinutes(1), 10));
    assertTrue(failure.getMessage().contains("(careless)"), failure.getMessage());
  }

  @Test
  void completedFuturesAndTheNextRunAreUnaffected() {
    scheduler.execute(() -> CompletableFuture.completedFuture("done").join(), "joins a done one");
    assertTrue(scheduler.run(Duration.ofMinutes(1), 10));
    assertEquals(1, scheduler.steps());
  }
}
