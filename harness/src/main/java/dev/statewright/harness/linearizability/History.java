package dev.statewright.harness.linearizability;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records operations with one global ticket per invocation and per response, so real-time order
 * is known across threads. Thread-safe.
 */
public final class History {
  private final AtomicLong tickets = new AtomicLong();
  private final List<Call> calls = new ArrayList<>(); // guarded by itself

  /** An invocation awaiting its response. */
  public final class Call {
    private final int id;
    private final Object partition;
    private final Object input;
    private final String client;
    private final long invoked = tickets.incrementAndGet();
    private volatile Object output;
    private volatile long responded = Long.MAX_VALUE;

    private Call(int id, Object partition, Object input, String client) {
      this.id = id;
      this.partition = partition;
      this.input = input;
      this.client = client;
    }

    /** Records the response; later calls are ignored. */
    public void respond(Object result) {
      if (responded == Long.MAX_VALUE) {
        output = result;
        responded = tickets.incrementAndGet();
      }
    }

    private Operation operation() {
      return new Operation(id, partition, input, responded == Long.MAX_VALUE ? null : output,
          invoked, responded, client);
    }
  }

  /** Records an invocation by {@code client} of {@code input} on {@code partition}. */
  public Call invoke(String client, Object partition, Object input) {
    synchronized (calls) {
      Call call = new Call(calls.size(), partition, input, client);
      calls.add(call);
      return call;
    }
  }

  /** Every operation so far, pending ones included. */
  public List<Operation> operations() {
    synchronized (calls) {
      List<Operation> ops = new ArrayList<>(calls.size());
      calls.forEach(c -> ops.add(c.operation()));
      return ops;
    }
  }
}
