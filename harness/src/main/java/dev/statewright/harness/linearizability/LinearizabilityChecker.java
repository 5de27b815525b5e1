package dev.statewright.harness.linearizability;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether a history is linearizable with respect to a {@link SequentialSpec}: the
 * Wing–Gong search with Lowe's memoisation of (linearized set, state) pairs, run separately on
 * each partition (key), with a step budget after which it answers UNKNOWN instead of hanging.
 *
 * <p>Partitioning is sound when the spec is a product of independent per-partition states, as a
 * map of keys is. Stateless and thread-safe.
 */
public final class LinearizabilityChecker {
  private final long budget;

  /** A checker that gives up after {@code budget} search steps per partition. */
  public LinearizabilityChecker(long budget) {
    if (budget < 1) {
      throw new IllegalArgumentException("budget must be >= 1, got " + budget);
    }
    this.budget = budget;
  }

  /** Checks {@code history}, partition by partition. */
  public <S> Verdict check(List<Operation> history, SequentialSpec<S> spec) {
    Map<Object, List<Operation>> partitions = new LinkedHashMap<>();
    history.forEach(op -> partitions.computeIfAbsent(op.partition(), p -> new ArrayList<>()).add(op));
    long steps = 0;
    Verdict unknown = null;
    for (Map.Entry<Object, List<Operation>> part : partitions.entrySet()) {
      Verdict verdict = new Search<>(part.getKey(), part.getValue(), spec).run();
      steps += verdict.steps();
      if (verdict.kind() == Verdict.Kind.ILLEGAL) {
        return new Verdict(verdict.kind(), verdict.partition(), verdict.longestPrefix(),
            verdict.unplaceable(), steps);
      }
      if (verdict.kind() == Verdict.Kind.UNKNOWN && unknown == null) {
        unknown = verdict;
      }
    }
    return unknown != null
        ? new Verdict(Verdict.Kind.UNKNOWN, unknown.partition(), List.of(), null, steps)
        : new Verdict(Verdict.Kind.LINEARIZABLE, null, List.of(), null, steps);
  }

  /** One partition's search over a doubly linked list of call and return entries. */
  private final class Search<S> {
    private final Object partition;
    private final SequentialSpec<S> spec;
    private final Entry head = new Entry(null, true, -1);
    private final List<Operation> ops;
    private int completeRemaining;

    Search(Object partition, List<Operation> ops, SequentialSpec<S> spec) {
      this.partition = partition;
      this.spec = spec;
      this.ops = ops;
      List<Entry> entries = new ArrayList<>(ops.size() * 2);
      for (int i = 0; i < ops.size(); i++) {
        Operation op = ops.get(i);
        Entry call = new Entry(op, true, i);
        Entry ret = new Entry(op, false, i);
        call.match = ret;
        entries.add(call);
        entries.add(ret);
        if (!op.pending()) {
          completeRemaining++;
        }
      }
      entries.sort(Comparator.comparingLong(Entry::time).thenComparingInt(e -> e.index));
      Entry last = head;
      for (Entry e : entries) {
        last.next = e;
        e.prev = last;
        last = e;
      }
    }

    Verdict run() {
      S state = spec.initial();
      BitSet linearized = new BitSet(ops.size());
      Set<Memo> seen = new HashSet<>();
      Deque<Frame<S>> stack = new ArrayDeque<>();
      List<Operation> longest = List.of();
      Entry entry = head.next;
      long steps = 0;
      while (completeRemaining > 0) {
        if (++steps > budget) {
          return new Verdict(Verdict.Kind.UNKNOWN, partition, List.of(), null, steps);
        }
        if (entry.call) {
          Optional<S> next = spec.apply(state, entry.op.input(), entry.op.output());
          if (next.isPresent()) {
            BitSet extended = (BitSet) linearized.clone();
            extended.set(entry.index);
            if (seen.add(new Memo(extended, next.get()))) {
              stack.push(new Frame<>(entry, state));
              state = next.get();
              linearized = extended;
              lift(entry);
              if (stack.size() > longest.size()) {
                longest = order(stack);
              }
              entry = head.next;
              continue;
            }
          }
          entry = entry.next;
        } else {
          if (stack.isEmpty()) {
            return illegal(longest, steps);
          }
          Frame<S> top = stack.pop();
          state = top.state;
          linearized.clear(top.call.index);
          unlift(top.call);
          entry = top.call.next;
        }
      }
      return new Verdict(Verdict.Kind.LINEARIZABLE, partition, List.of(), null, steps);
    }

    private Verdict illegal(List<Operation> longest, long steps) {
      Set<Integer> placed = new HashSet<>();
      longest.forEach(op -> placed.add(op.id()));
      Operation first = ops.stream().filter(op -> !placed.contains(op.id()))
          .min(Comparator.comparingLong(Operation::responded)).orElse(null);
      return new Verdict(Verdict.Kind.ILLEGAL, partition, longest, first, steps);
    }

    private List<Operation> order(Deque<Frame<S>> stack) {
      List<Operation> order = new ArrayList<>(stack.size());
      stack.descendingIterator().forEachRemaining(f -> order.add(f.call.op));
      return order;
    }

    private void lift(Entry call) {
      call.prev.next = call.next;
      call.next.prev = call.prev;
      Entry ret = call.match;
      ret.prev.next = ret.next;
      if (ret.next != null) {
        ret.next.prev = ret.prev;
      }
      if (!call.op.pending()) {
        completeRemaining--;
      }
    }

    private void unlift(Entry call) {
      Entry ret = call.match;
      ret.prev.next = ret;
      if (ret.next != null) {
        ret.next.prev = ret;
      }
      call.prev.next = call;
      call.next.prev = call;
      if (!call.op.pending()) {
        completeRemaining++;
      }
    }
  }

  private static final class Entry {
    final Operation op;
    final boolean call;
    final int index;
    Entry match;
    Entry prev;
    Entry next;

    Entry(Operation op, boolean call, int index) {
      this.op = op;
      this.call = call;
      this.index = index;
    }

    long time() {
      return call ? op.invoked() : op.responded();
    }
  }

  private record Frame<S>(Entry call, S state) { }

  private record Memo(BitSet linearized, Object state) { }
}
