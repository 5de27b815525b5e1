package dev.statewright.harness.linearizability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The checker's answer. For {@link Kind#ILLEGAL}, the one partition proven non-linearizable; for
 * {@link Kind#UNKNOWN}, every partition left undecided and why; for each, the longest
 * linearizable prefix found and the first operation that could not be placed after it.
 *
 * @param kind the answer
 * @param reason why the answer is UNKNOWN (the limit reached, or cancellation); empty otherwise
 * @param partitions the illegal partition, or the undecided ones; empty if linearizable
 * @param steps search steps taken, over all partitions
 * @param statesVisited (linearized set, state) pairs entered, over all partitions
 * @param timeline the HTML timeline of {@code partitions}, if one was written
 * @param <I> the input type
 * @param <O> the output type
 */
public record Verdict<I, O>(Kind kind, String reason, List<PartitionVerdict<I, O>> partitions,
    long steps, long statesVisited, Optional<Path> timeline) {
  /** Partitions, and operations of a prefix, that a message spells out; the timeline has all. */
  private static final int PARTITIONS_SHOWN = 5;
  private static final int PREFIX_SHOWN = 20;

  /** The three answers. */
  public enum Kind {
    /** A linearization exists. */
    LINEARIZABLE,
    /** None exists. */
    ILLEGAL,
    /** A limit of the budget was reached, or the check was cancelled, first. */
    UNKNOWN
  }

  /**
   * Copies the list.
   *
   * @param kind the answer
   * @param reason why the answer is UNKNOWN; empty otherwise
   * @param partitions the illegal partition, or the undecided ones
   * @param steps search steps taken
   * @param statesVisited pairs entered
   * @param timeline the timeline written, if any
   */
  public Verdict {
    partitions = List.copyOf(partitions);
  }

  /**
   * Whether a linearization exists.
   *
   * @return true if LINEARIZABLE
   */
  public boolean linearizable() {
    return kind == Kind.LINEARIZABLE;
  }

  /**
   * The partition the answer is about: the illegal one, or the first undecided one.
   *
   * @return the partition key, or null if linearizable (or the history has one shared state)
   */
  public Object partition() {
    return partitions.isEmpty() ? null : partitions.get(0).partition();
  }

  /**
   * The longest linearizable prefix found in {@link #partition()}.
   *
   * @return the prefix, in linearization order; empty if linearizable
   */
  public List<Operation<I, O>> longestPrefix() {
    return partitions.isEmpty() ? List.of() : partitions.get(0).longestPrefix();
  }

  /**
   * The first operation of {@link #partition()} (by response) that could not be placed after
   * the longest prefix.
   *
   * @return the operation, or null if linearizable
   */
  public Operation<I, O> unplaceable() {
    return partitions.isEmpty() ? null : partitions.get(0).unplaceable();
  }

  /**
   * Writes the timeline of {@link #partitions()} as one self-contained HTML page.
   *
   * @param file where to write it (parent folders are created)
   * @return this verdict, with {@link #timeline()} set to {@code file}
   * @throws UncheckedIOException if it cannot be written
   */
  public Verdict<I, O> writeTimeline(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Files.writeString(file, TimelinePage.render(this));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the timeline " + file, e);
    }
    return new Verdict<>(kind, reason, partitions, steps, statesVisited, Optional.of(file));
  }

  /**
   * The answer, the partitions it is about (at most five, each with the end
   * of its longest prefix and the operation that cannot be placed) and the link to the timeline,
   * which shows everything.
   */
  @Override
  public String toString() {
    StringBuilder out = new StringBuilder(kind.toString());
    if (kind == Kind.UNKNOWN) {
      out.append(" (").append(reason).append(')');
    }
    out.append(" after ").append(steps).append(" steps");
    partitions.stream().limit(PARTITIONS_SHOWN).forEach(p -> describe(out, p));
    if (partitions.size() > PARTITIONS_SHOWN) {
      out.append("\n  … and ").append(partitions.size() - PARTITIONS_SHOWN).append(" more undecided partitions");
    }
    timeline.ifPresent(file -> out.append("\n  timeline: ").append(file.toAbsolutePath().toUri()));
    return out.toString();
  }

  private static <I, O> void describe(StringBuilder out, PartitionVerdict<I, O> p) {
    out.append("\n  ").append(p.kind() == Kind.ILLEGAL ? "not linearizable" : "undecided")
        .append(": partition ").append(p.partition()).append(" (").append(p.operations().size())
        .append(" operations, ").append(p.steps()).append(" steps)\n    longest linearizable prefix (")
        .append(p.longestPrefix().size()).append(" operations):");
    List<Operation<I, O>> prefix = p.longestPrefix();
    if (prefix.size() > PREFIX_SHOWN) {
      out.append("\n      … ").append(prefix.size() - PREFIX_SHOWN).append(" earlier");
    }
    prefix.subList(Math.max(0, prefix.size() - PREFIX_SHOWN), prefix.size())
        .forEach(op -> out.append("\n      ").append(op));
    out.append("\n    cannot place: ").append(p.unplaceable());
  }
}
