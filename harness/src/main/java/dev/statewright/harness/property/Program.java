package dev.statewright.harness.property;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A sequential prefix, then branches that run concurrently with each other. A sequential
 * program has no branches.
 *
 * @param prefix commands run one after another first
 * @param branches command lists run concurrently after the prefix
 * @param <S> the model state
 * @param <R> the system under test
 */
public record Program<S, R>(List<Command<S, R>> prefix, List<List<Command<S, R>>> branches) {

  /**
   * Copies the lists.
   *
   * @param prefix commands run one after another first
   * @param branches command lists run concurrently after the prefix
   */
  public Program {
    prefix = List.copyOf(Objects.requireNonNull(prefix, "prefix"));
    Objects.requireNonNull(branches, "branches");
    branches = branches.stream().map(List::copyOf).toList();
  }

  /**
   * Whether there are concurrent branches.
   *
   * @return true for a parallel program
   */
  public boolean parallel() {
    return !branches.isEmpty();
  }

  /**
   * Commands in all.
   *
   * @return the number of commands
   */
  public int size() {
    return prefix.size() + branches.stream().mapToInt(List::size).sum();
  }

  /**
   * Whether every command's precondition holds: prefix in order, each branch after the prefix.
   *
   * @param initial the model state before the program
   * @return whether the program is valid
   */
  public boolean valid(S initial) {
    S state = walk(initial, prefix);
    if (state == null) {
      return false;
    }
    for (List<Command<S, R>> branch : branches) {
      if (walk(state, branch) == null) {
        return false;
      }
    }
    return true;
  }

  private static <S, R> S walk(S state, List<Command<S, R>> commands) {
    for (Command<S, R> c : commands) {
      if (!c.precondition(state)) {
        return null;
      }
      state = c.applyUnknown(state).orElse(state);
    }
    return state;
  }

  /**
   * Simpler programs: first the same commands run one after the other (the branches appended to
   * the prefix, each branch first in turn), so a failure that needs no concurrency sheds it and
   * shrinks on one deterministic schedule; then one command or branch fewer, or one command
   * simplified.
   */
  List<Program<S, R>> shrinks() {
    List<Program<S, R>> smaller = new ArrayList<>();
    for (int first = 0; first < branches.size(); first++) {
      List<Command<S, R>> sequential = new ArrayList<>(prefix);
      for (int b = 0; b < branches.size(); b++) {
        sequential.addAll(branches.get((first + b) % branches.size()));
      }
      smaller.add(new Program<>(sequential, List.of()));
    }
    for (int b = 0; b < branches.size(); b++) {
      List<List<Command<S, R>>> fewer = new ArrayList<>(branches);
      fewer.remove(b);
      smaller.add(new Program<>(prefix, fewer.size() == 1 ? List.of() : fewer));
      if (fewer.size() == 1) {
        List<Command<S, R>> merged = new ArrayList<>(prefix);
        merged.addAll(fewer.get(0));
        smaller.add(new Program<>(merged, List.of()));
      }
    }
    for (int i = 0; i < prefix.size(); i++) {
      smaller.add(new Program<>(without(prefix, i), branches));
      for (Command<S, R> simpler : prefix.get(i).shrinks()) {
        smaller.add(new Program<>(replaced(prefix, i, simpler), branches));
      }
    }
    for (int b = 0; b < branches.size(); b++) {
      List<Command<S, R>> branch = branches.get(b);
      for (int i = 0; i < branch.size(); i++) {
        if (branch.size() > 1) {
          smaller.add(withBranch(b, without(branch, i)));
        }
        for (Command<S, R> simpler : branch.get(i).shrinks()) {
          smaller.add(withBranch(b, replaced(branch, i, simpler)));
        }
      }
    }
    return smaller;
  }

  private Program<S, R> withBranch(int b, List<Command<S, R>> branch) {
    List<List<Command<S, R>>> changed = new ArrayList<>(branches);
    changed.set(b, branch);
    return new Program<>(prefix, changed);
  }

  private static <T> List<T> without(List<T> list, int i) {
    List<T> copy = new ArrayList<>(list);
    copy.remove(i);
    return copy;
  }

  private static <T> List<T> replaced(List<T> list, int i, T with) {
    List<T> copy = new ArrayList<>(list);
    copy.set(i, with);
    return copy;
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    out.append("  prefix: ").append(prefix).append('\n');
    for (int b = 0; b < branches.size(); b++) {
      out.append("  branch ").append(b + 1).append(": ").append(branches.get(b)).append('\n');
    }
    return out.toString();
  }
}
