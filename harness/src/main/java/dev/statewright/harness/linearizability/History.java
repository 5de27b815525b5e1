package dev.statewright.harness.linearizability;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records operations with one global ticket per invocation and per response, so real-time order
 * is known across threads. A call answered by none of {@link Call#ok}, {@link Call#failed} and
 * {@link Call#unknown} is reported as unknown. Thread-safe.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
public final class History<I, O> {
  private final AtomicLong tickets = new AtomicLong();
  private final List<Call> calls = new ArrayList<>(); // guarded by itself

  /** An invocation awaiting its response. Each call is answered at most once. */
  public final class Call {
    private final int id;
    private final Object partition;
    private final I input;
    private final String client;
    private final long invoked = tickets.incrementAndGet();
    private Result<O> result = Result.unknown(); // guarded by this
    private long responded = Long.MAX_VALUE; // guarded by this

    private Call(int id, Object partition, I input, String client) {
      this.id = id;
      this.partition = partition;
      this.input = input;
      this.client = client;
    }

    /**
     * Records that the operation took effect and returned {@code value}.
     *
     * @param value what it returned; null is the value null
     * @throws IllegalStateException if the call was already answered
     */
    public void ok(O value) {
      answer(Result.ok(value));
    }

    /**
     * Records that the operation did not take effect.
     *
     * @throws IllegalStateException if the call was already answered
     */
    public void failed() {
      answer(Result.failed());
    }

    /**
     * Records that the caller stopped waiting without knowing whether it took effect.
     *
     * @throws IllegalStateException if the call was already answered
     */
    public void unknown() {
      answer(Result.unknown());
    }

    private synchronized void answer(Result<O> outcome) {
      if (responded != Long.MAX_VALUE) {
        throw new IllegalStateException(client + ": " + input + " was already answered " + result);
      }
      result = outcome;
      responded = tickets.incrementAndGet();
    }

    private synchronized Operation<I, O> operation() {
      return new Operation<>(id, partition, input, result, invoked, responded, client);
    }
  }

  /**
   * Records an invocation by {@code client} of {@code input} on {@code partition}.
   *
   * @param client who invokes it (a thread or branch)
   * @param partition the part of the state it touches (a key), or null for one shared state
   * @param input what is asked
   * @return the call, to answer when it returns
   */
  public Call invoke(String client, Object partition, I input) {
    synchronized (calls) {
      Call call = new Call(calls.size(), partition, input, client);
      calls.add(call);
      return call;
    }
  }

  /**
   * Every operation so far; calls not answered yet are unknown.
   *
   * @return the operations, in invocation order
   */
  public List<Operation<I, O>> operations() {
    synchronized (calls) {
      List<Operation<I, O>> ops = new ArrayList<>(calls.size());
      calls.forEach(c -> ops.add(c.operation()));
      return ops;
    }
  }
}
