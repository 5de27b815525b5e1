package dev.statewright.harness.linearizability;

import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Every (linearized set, state) pair the Wing–Gong search can reach from the empty set, found by
 * breadth-first enumeration with fresh, never-edited keys: an independent count to hold the
 * checker's to. An operation may be placed next when no unplaced operation that returned did so
 * before its invocation (equal tickets are concurrent); failed operations are left out.
 */
final class BruteForce {
  private BruteForce() { }

  private record Config(BitSet placed, Object state) { }

  /**
   * The number of reachable pairs, the empty set's included.
   *
   * @param ops one partition's operations
   * @param spec the reference
   * @return how many pairs
   */
  static <S, I, O> int reachable(List<Operation<I, O>> ops, SequentialSpec<S, I, O> spec) {
    Set<Config> seen = new HashSet<>();
    Deque<Config> frontier = new ArrayDeque<>();
    Config start = new Config(new BitSet(), spec.initial());
    seen.add(start);
    frontier.add(start);
    while (!frontier.isEmpty()) {
      Config config = frontier.poll();
      for (int i = 0; i < ops.size(); i++) {
        if (!config.placed().get(i) && mayGoNext(ops, config.placed(), i)) {
          @SuppressWarnings("unchecked")
          Optional<S> next = step(spec, (S) config.state(), ops.get(i));
          if (next.isPresent()) {
            BitSet placed = (BitSet) config.placed().clone();
            placed.set(i);
            Config successor = new Config(placed, next.get());
            if (seen.add(successor)) {
              frontier.add(successor);
            }
          }
        }
      }
    }
    return seen.size();
  }

  private static <I, O> boolean mayGoNext(List<Operation<I, O>> ops, BitSet placed, int candidate) {
    for (int j = 0; j < ops.size(); j++) {
      if (j != candidate && !placed.get(j) && ops.get(j).deadline() < ops.get(candidate).invoked()) {
        return false;
      }
    }
    return true;
  }

  private static <S, I, O> Optional<S> step(SequentialSpec<S, I, O> spec, S state, Operation<I, O> op) {
    return op.pending() ? spec.stepUnknown(state, op.input())
        : spec.step(state, op.input(), op.result().value());
  }
}
