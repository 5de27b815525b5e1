package dev.statewright.harness.property;

import dev.statewright.cache.ClientCache;
import dev.statewright.time.Scheduler;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

/** Small models for the {@link PropertyTest} tests: a correct counter, a broken one, a blocking one. */
final class Counters {
  private Counters() { }

  /** A counter; {@code brokenFrom} makes {@code get} lie once the count reaches it. */
  static final class Counter {
    final AtomicLong count = new AtomicLong();
    final long brokenFrom;

    Counter(long brokenFrom) {
      this.brokenFrom = brokenFrom;
    }

    long get() {
      long value = count.get();
      return value >= brokenFrom ? value + 1 : value;
    }
  }

  /** Increments and reads; the model state is the count. */
  static class CounterModel implements Model<Long, Counter> {
    @Override
    public String name() {
      return "counter";
    }

    @Override
    public Long initialState() {
      return 0L;
    }

    @Override
    public Command<Long, Counter> generate(Long state, SplittableRandom random) {
      return random.nextBoolean() ? new Increment() : new Get();
    }

    @Override
    public Counter start(Scheduler scheduler) {
      return new Counter(brokenFrom());
    }

    long brokenFrom() {
      return Long.MAX_VALUE;
    }

    @Override
    public List<String> finish(Counter system) {
      return List.of();
    }
  }

  /** A counter whose reads lie from three on: the shrunk program is three increments and a get. */
  static final class BrokenCounterModel extends CounterModel {
    @Override
    public String name() {
      return "broken counter";
    }

    @Override
    long brokenFrom() {
      return 3;
    }
  }

  static final class Increment implements Command<Long, Counter> {
    @Override
    public Optional<Long> apply(Long state, Object result) {
      return Optional.of(state + 1);
    }

    @Override
    public Optional<Long> applyUnknown(Long state) {
      return Optional.of(state + 1);
    }

    @Override
    public CompletionStage<Object> run(Counter system) {
      return CompletableFuture.completedFuture(system.count.incrementAndGet());
    }

    @Override
    public String toString() {
      return "increment";
    }
  }

  static final class Get implements Command<Long, Counter> {
    @Override
    public Optional<Long> apply(Long state, Object result) {
      return state.equals(result) ? Optional.of(state) : Optional.empty();
    }

    @Override
    public Optional<Long> applyUnknown(Long state) {
      return Optional.of(state);
    }

    @Override
    public CompletionStage<Object> run(Counter system) {
      return CompletableFuture.completedFuture(system.get());
    }

    @Override
    public String toString() {
      return "get";
    }
  }

  /** A model whose one command calls the blocking {@code acquire} on a cache that never builds. */
  static final class BlockingModel implements Model<Long, ClientCache<String, String, String>> {
    @Override
    public String name() {
      return "blocking acquire";
    }

    @Override
    public Long initialState() {
      return 0L;
    }

    @Override
    public Command<Long, ClientCache<String, String, String>> generate(Long state,
        SplittableRandom random) {
      return new Command<>() {
        @Override
        public Optional<Long> apply(Long s, Object result) {
          return Optional.of(s);
        }

        @Override
        public Optional<Long> applyUnknown(Long s) {
          return Optional.of(s);
        }

        @Override
        public CompletionStage<Object> run(ClientCache<String, String, String> cache) {
          cache.upsert("repo", "spec", 1);
          cache.acquire("repo").close(); // should be acquireAsync
          return CompletableFuture.completedFuture("acquired");
        }

        @Override
        public String toString() {
          return "acquire";
        }
      };
    }

    @Override
    public ClientCache<String, String, String> start(Scheduler scheduler) {
      return ClientCache.<String, String, String>asyncBuilder((key, spec) -> new CompletableFuture<>())
          .scheduler(scheduler).build();
    }

    @Override
    public List<String> finish(ClientCache<String, String, String> cache) {
      cache.close();
      return List.of();
    }
  }
}
