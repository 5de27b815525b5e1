package dev.statewright.harness.linearizability;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * One partition's Wing–Gong search with Lowe's memoisation, over a doubly linked list of call
 * and return entries, resumable: {@link #advance} runs a slice of steps and says where it stands,
 * so the checker can interleave partitions under one budget.
 *
 * <p>Entries are ordered by ticket, calls before returns at equal tickets (equal tickets are
 * concurrent), then by operation. An operation is a candidate while its call comes before the
 * first remaining return; an unknown operation has no return before the end, so it may be placed
 * any time after its invocation, or never. The search succeeds once every operation that
 * returned is placed. Not thread-safe.
 *
 * @param <S> the spec state
 * @param <I> the input type
 * @param <O> the output type
 */
final class PartitionSearch<S, I, O> {
  /** Where a search stands. */
  enum Status { RUNNING, LINEARIZABLE, ILLEGAL }

  private final Object partition;
  private final List<Operation<I, O>> ops;
  private final SequentialSpec<S, I, O> spec;
  private final Memo memo;
  private final Entry head = new Entry(-1, true, Long.MIN_VALUE);
  private Frame<S> top; // the linearized operations, newest first; frames are never changed
  private Frame<S> longest; // the deepest top so far: the longest linearizable prefix
  private long[] linearized;
  private S state;
  private Entry entry;
  private int completeRemaining;
  private long steps;
  private long statesVisited;
  private Status status = Status.RUNNING;

  PartitionSearch(Object partition, List<Operation<I, O>> ops, SequentialSpec<S, I, O> spec, Memo memo) {
    this.partition = partition;
    this.ops = List.copyOf(ops);
    this.spec = spec;
    this.memo = memo;
    this.linearized = new long[Math.max(1, (ops.size() + 63) >>> 6)];
    this.state = spec.initial();
    link(entries());
    this.entry = head.next;
  }

  private List<Entry> entries() {
    List<Entry> entries = new ArrayList<>(ops.size() * 2);
    for (int i = 0; i < ops.size(); i++) {
      Operation<I, O> op = ops.get(i);
      Entry call = new Entry(i, true, op.invoked());
      Entry ret = new Entry(i, false, op.deadline());
      call.match = ret;
      entries.add(call);
      entries.add(ret);
      completeRemaining += op.pending() ? 0 : 1;
    }
    entries.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> !e.call)
        .thenComparingInt(e -> e.index));
    return entries;
  }

  private void link(List<Entry> entries) {
    Entry last = head;
    for (Entry e : entries) {
      last.next = e;
      e.prev = last;
      last = e;
    }
  }

  /**
   * Runs at most {@code maxSteps} steps.
   *
   * @param maxSteps steps allowed in this slice
   * @return where the search stands after it
   */
  Status advance(long maxSteps) {
    for (long slice = 0; status == Status.RUNNING && slice < maxSteps; slice++) {
      if (completeRemaining == 0) {
        status = Status.LINEARIZABLE;
      } else {
        steps++;
        status = entry.call ? tryCall() : backtrack();
      }
    }
    if (status == Status.RUNNING && completeRemaining == 0) {
      status = Status.LINEARIZABLE;
    }
    return status;
  }

  private Status tryCall() {
    Optional<S> next = stepOf(ops.get(entry.index));
    if (next.isPresent()) {
      long[] extended = linearized.clone();
      extended[entry.index >>> 6] |= 1L << entry.index;
      if (memo.firstVisit(extended, next.get())) {
        enter(extended, next.get());
        return Status.RUNNING;
      }
    }
    entry = entry.next;
    return Status.RUNNING;
  }

  private Optional<S> stepOf(Operation<I, O> op) {
    return op.pending() ? spec.stepUnknown(state, op.input())
        : spec.step(state, op.input(), op.result().value());
  }

  private void enter(long[] extended, S next) {
    top = new Frame<>(entry, state, next, top, top == null ? 1 : top.depth + 1);
    statesVisited++;
    state = next;
    linearized = extended;
    lift(entry);
    if (longest == null || top.depth > longest.depth) {
      longest = top;
    }
    entry = head.next;
  }

  private Status backtrack() {
    if (top == null) {
      return Status.ILLEGAL;
    }
    Frame<S> popped = top;
    top = popped.parent;
    state = popped.state;
    linearized[popped.call.index >>> 6] &= ~(1L << popped.call.index);
    unlift(popped.call);
    entry = popped.call.next;
    return Status.RUNNING;
  }

  /** The frames of the longest prefix, in linearization order. */
  private List<Frame<S>> longestFrames() {
    List<Frame<S>> frames = new ArrayList<>();
    for (Frame<S> f = longest; f != null; f = f.parent) {
      frames.add(f);
    }
    Collections.reverse(frames);
    return frames;
  }

  private void lift(Entry call) {
    call.prev.next = call.next;
    call.next.prev = call.prev;
    Entry ret = call.match;
    ret.prev.next = ret.next;
    if (ret.next != null) {
      ret.next.prev = ret.prev;
    }
    completeRemaining -= ops.get(call.index).pending() ? 0 : 1;
  }

  private void unlift(Entry call) {
    Entry ret = call.match;
    ret.prev.next = ret;
    if (ret.next != null) {
      ret.next.prev = ret;
    }
    call.prev.next = call;
    call.next.prev = call;
    completeRemaining += ops.get(call.index).pending() ? 0 : 1;
  }

  /**
   * What the search found so far, as a partition verdict of {@code kind}.
   *
   * @param kind the partition's answer
   * @return the verdict: the longest linearizable prefix and the first operation outside it
   */
  PartitionVerdict<I, O> verdict(Verdict.Kind kind) {
    List<Frame<S>> frames = longestFrames();
    List<Operation<I, O>> prefix = new ArrayList<>(frames.size());
    List<Object> states = new ArrayList<>(frames.size());
    boolean[] placed = new boolean[ops.size()];
    for (Frame<S> frame : frames) {
      prefix.add(ops.get(frame.call.index));
      states.add(frame.after);
      placed[frame.call.index] = true;
    }
    Operation<I, O> first = null;
    for (int i = 0; i < ops.size(); i++) {
      if (!placed[i] && (first == null || ops.get(i).deadline() < first.deadline())) {
        first = ops.get(i);
      }
    }
    return new PartitionVerdict<>(partition, kind, ops, prefix, states,
        kind == Verdict.Kind.LINEARIZABLE ? null : first, steps, statesVisited);
  }

  int size() {
    return ops.size();
  }

  long steps() {
    return steps;
  }

  long statesVisited() {
    return statesVisited;
  }

  long memoBytes() {
    return memo.bytes();
  }

  private static final class Entry {
    final int index;
    final boolean call;
    final long time;
    Entry match;
    Entry prev;
    Entry next;

    Entry(int index, boolean call, long time) {
      this.index = index;
      this.call = call;
      this.time = time;
    }
  }

  /** One linearized operation: its call, the states before and after it, the frame below, its depth. */
  private record Frame<S>(Entry call, S state, S after, Frame<S> parent, int depth) { }
}
