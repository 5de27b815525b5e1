package dev.statewright.harness.linearizability;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Sequential specs and hand-built operations shared by the checker's tests. */
final class Specs {
  private Specs() { }

  /** A register's operations. */
  sealed interface Reg permits Write, Read { }

  /** Writes a value; returns it. */
  record Write(int value) implements Reg { }

  /** Reads the value. */
  record Read() implements Reg { }

  /** A string register's operations, as in etcd's and Porcupine's key-value tests. */
  sealed interface Kv permits Get, Put, Append { }

  /** Reads the value. */
  record Get() implements Kv { }

  /** Replaces the value. */
  record Put(String value) implements Kv { }

  /** Appends to the value. */
  record Append(String value) implements Kv { }

  /** A register holding an int, initially 0; a write's output is not checked. */
  static final SequentialSpec<Integer, Reg, Integer> REGISTER = new SequentialSpec<>() {
    @Override
    public Integer initial() {
      return 0;
    }

    @Override
    public Optional<Integer> step(Integer state, Reg input, Integer output) {
      if (input instanceof Write w) {
        return Optional.of(w.value());
      }
      return Objects.equals(output, state) ? Optional.of(state) : Optional.empty();
    }

    @Override
    public Optional<Integer> stepUnknown(Integer state, Reg input) {
      return Optional.of(input instanceof Write w ? w.value() : state);
    }
  };

  /** One string-valued key, initially "". */
  static final SequentialSpec<String, Kv, String> KV = new SequentialSpec<>() {
    @Override
    public String initial() {
      return "";
    }

    @Override
    public Optional<String> step(String state, Kv input, String output) {
      if (input instanceof Get) {
        return state.equals(output) ? Optional.of(state) : Optional.empty();
      }
      return stepUnknown(state, input);
    }

    @Override
    public Optional<String> stepUnknown(String state, Kv input) {
      if (input instanceof Put p) {
        return Optional.of(p.value());
      }
      return Optional.of(input instanceof Append a ? state + a.value() : state);
    }
  };

  /** A FIFO queue of ints; a dequeue of the empty queue returns -1; an enqueue's output is not checked. */
  static final SequentialSpec<List<Integer>, Integer, Integer> QUEUE = new SequentialSpec<>() {
    @Override
    public List<Integer> initial() {
      return List.of();
    }

    @Override
    public Optional<List<Integer>> step(List<Integer> state, Integer enqueue, Integer output) {
      if (enqueue != null) {
        return stepUnknown(state, enqueue);
      }
      int head = state.isEmpty() ? -1 : state.get(0);
      return Objects.equals(output, head) ? stepUnknown(state, null) : Optional.empty();
    }

    @Override
    public Optional<List<Integer>> stepUnknown(List<Integer> state, Integer enqueue) {
      if (enqueue != null) {
        List<Integer> next = new ArrayList<>(state);
        next.add(enqueue);
        return Optional.of(List.copyOf(next));
      }
      return Optional.of(state.isEmpty() ? state : List.copyOf(state.subList(1, state.size())));
    }
  };

  /** A completed operation on partition "x" by client "c{id}". */
  static <I, O> Operation<I, O> op(int id, I input, O output, long from, long to) {
    return new Operation<>(id, "x", input, Result.ok(output), from, to, "c" + id);
  }

  /** An operation with an unknown result on partition "x" by client "c{id}". */
  static <I, O> Operation<I, O> pending(int id, I input, long from) {
    return new Operation<>(id, "x", input, Result.unknown(), from, Long.MAX_VALUE, "c" + id);
  }

  /**
   * {@code count} fully concurrent register operations on {@code key}: writes of distinct values
   * and reads of a value never written. Not linearizable, and hard to prove: the search must try
   * every subset of the writes.
   */
  static List<Operation<Reg, Integer>> concurrentWritesAndImpossibleReads(String key, int count, int firstId) {
    List<Operation<Reg, Integer>> ops = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      boolean write = i % 2 == 0;
      ops.add(new Operation<>(firstId + i, key, write ? new Write(i + 1) : new Read(),
          Result.ok(write ? i + 1 : 999), i, 1_000 + i, key + "-c" + i));
    }
    return ops;
  }
}
