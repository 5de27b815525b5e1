package dev.statewright.benchmarks;

import dev.statewright.harness.linearizability.Operation;
import dev.statewright.harness.linearizability.Result;
import dev.statewright.harness.linearizability.SequentialSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Register and key-value histories for the checker benchmark, linearizable by construction:
 * every client is always busy, each operation takes effect at a random instant inside its own
 * interval, and outputs are computed by applying the operations in the order of those instants.
 * A non-linearizable history is the same history with one read, the one closest to the middle,
 * returning a value nobody wrote.
 */
final class GeneratedHistories {
  /** Keys of a key-value history. */
  static final int KEYS = 8;

  private GeneratedHistories() { }

  /** An operation of either model: a read of {@code key}, or a write of {@code value}, or an append. */
  record Op(Kind kind, int key, String value) {
    @Override
    public String toString() {
      return kind.name().toLowerCase(java.util.Locale.ROOT) + "(" + key + (value == null ? "" : ", " + value) + ")";
    }
  }

  /** What an operation does. */
  enum Kind { READ, WRITE, APPEND }

  /** One string per key, initially "": reads return it, writes replace it, appends extend it. */
  static final SequentialSpec<String, Op, String> SPEC = new SequentialSpec<>() {
    @Override
    public String initial() {
      return "";
    }

    @Override
    public Optional<String> step(String state, Op input, String output) {
      if (input.kind() == Kind.READ) {
        return state.equals(output) ? Optional.of(state) : Optional.empty();
      }
      return stepUnknown(state, input);
    }

    @Override
    public Optional<String> stepUnknown(String state, Op input) {
      return Optional.of(switch (input.kind()) {
        case READ -> state;
        case WRITE -> input.value();
        case APPEND -> state + input.value();
      });
    }
  };

  /**
   * A history of {@code operations} by {@code clients} clients.
   *
   * @param keyValue several keys with appends (else one register of reads and writes)
   * @param linearizable whether to leave it linearizable
   * @param seed where it comes from
   */
  static List<Operation<Op, String>> generate(boolean keyValue, int operations, int clients,
      boolean linearizable, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Timed> timed = intervals(random, operations, clients);
    List<Op> inputs = new ArrayList<>();
    for (int i = 0; i < operations; i++) {
      inputs.add(input(random, keyValue, i));
    }
    String[] outputs = outputs(timed, inputs);
    if (!linearizable) {
      corruptMiddleRead(inputs, outputs);
    }
    List<Operation<Op, String>> history = new ArrayList<>(operations);
    for (int i = 0; i < operations; i++) {
      Timed t = timed.get(i);
      history.add(new Operation<>(i, inputs.get(i).key(), inputs.get(i), Result.ok(outputs[i]), t.invoked,
          t.responded, "c" + t.client));
    }
    return history;
  }

  private record Timed(int client, long invoked, long effect, long responded) { }

  /** Every client busy all the time: each operation starts just after its client's previous one. */
  private static List<Timed> intervals(SplittableRandom random, int operations, int clients) {
    long[] free = new long[clients];
    List<Timed> timed = new ArrayList<>(operations);
    for (int i = 0; i < operations; i++) {
      int client = earliest(free);
      long invoked = free[client] + 1 + random.nextInt(1_000);
      long responded = invoked + 1_000 * (1 + random.nextInt(2 * clients));
      long effect = invoked + 1 + random.nextLong(responded - invoked - 1);
      timed.add(new Timed(client, invoked * clients + client, effect * clients + client,
          responded * clients + client));
      free[client] = responded;
    }
    return timed;
  }

  private static int earliest(long[] free) {
    int best = 0;
    for (int c = 1; c < free.length; c++) {
      best = free[c] < free[best] ? c : best;
    }
    return best;
  }

  private static Op input(SplittableRandom random, boolean keyValue, int i) {
    int key = keyValue ? random.nextInt(KEYS) : 0;
    int dice = random.nextInt(10);
    if (dice < 5) {
      return new Op(Kind.READ, key, null);
    }
    return new Op(keyValue && dice < 7 ? Kind.APPEND : Kind.WRITE, key, Integer.toString(i % 100));
  }

  /** Applies the operations in the order of their effect instants. */
  private static String[] outputs(List<Timed> timed, List<Op> inputs) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < timed.size(); i++) {
      order.add(i);
    }
    order.sort(Comparator.comparingLong(i -> timed.get(i).effect));
    String[] state = new String[KEYS];
    java.util.Arrays.fill(state, "");
    String[] outputs = new String[timed.size()];
    for (int i : order) {
      Op op = inputs.get(i);
      String after = SPEC.stepUnknown(state[op.key()], op).orElseThrow();
      outputs[i] = op.kind() == Kind.READ ? state[op.key()] : "ok";
      state[op.key()] = after;
    }
    return outputs;
  }

  private static void corruptMiddleRead(List<Op> inputs, String[] outputs) {
    int middle = inputs.size() / 2;
    for (int d = 0; d < inputs.size(); d++) {
      for (int i : new int[] {middle - d, middle + d}) {
        if (i >= 0 && i < inputs.size() && inputs.get(i).kind() == Kind.READ) {
          outputs[i] = "never written";
          return;
        }
      }
    }
    inputs.set(middle, new Op(Kind.READ, inputs.get(middle).key(), null)); // no read at all: make one
    outputs[middle] = "never written";
  }
}
