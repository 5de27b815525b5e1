package dev.statewright.harness.lifecycle;

import dev.statewright.lifecycle.Lifecycle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.opentest4j.AssertionFailedError;

/**
 * A lifecycle as a Mermaid {@code stateDiagram-v2} draws it: its states and its edges
 * ({@code FROM --> TO : EVENT}, with {@code [*]} for the initial and terminal markers). Read one
 * from the spec a person writes, make one from a {@link Lifecycle}, and compare them:
 *
 * <pre>{@code
 * LifecycleDiagram.assertMatches(Path.of("specs/door.md"), Door.LIFECYCLE);
 * }</pre>
 *
 * <p>Immutable.
 */
public final class LifecycleDiagram {
  private static final Pattern BLOCK = Pattern.compile("```mermaid\\s*\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern EDGE =
      Pattern.compile("^\\s*(\\[\\*]|\\w+)\\s*-->\\s*(\\[\\*]|\\w+)\\s*(?::\\s*(\\w+))?\\s*$");
  private static final String MARKER = "[*]";

  private final String source;
  private final Set<String> states;
  private final Set<String> edges;

  private LifecycleDiagram(String source, Set<String> states, Set<String> edges) {
    this.source = source;
    this.states = Set.copyOf(states);
    this.edges = Set.copyOf(edges);
  }

  /**
   * Parses a {@code stateDiagram-v2} block (without its code fence). Blank lines and
   * {@code %%} comments are skipped; any other line must be an edge.
   *
   * @param mermaid the diagram
   * @param source what the diagram is, for messages (a file name, say)
   * @return the diagram
   * @throws IllegalArgumentException naming the line that is not an edge, or if the block does
   *     not start with {@code stateDiagram-v2}
   */
  public static LifecycleDiagram parse(String mermaid, String source) {
    Objects.requireNonNull(mermaid, "mermaid");
    Objects.requireNonNull(source, "source");
    List<String> lines = mermaid.strip().lines().toList();
    if (lines.isEmpty() || !lines.get(0).strip().equals("stateDiagram-v2")) {
      throw new IllegalArgumentException(source + ": a lifecycle diagram starts with"
          + " 'stateDiagram-v2', not '" + (lines.isEmpty() ? "" : lines.get(0)) + "'");
    }
    Set<String> states = new TreeSet<>();
    Set<String> edges = new TreeSet<>();
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.strip().startsWith("%%")) {
        continue;
      }
      Matcher edge = EDGE.matcher(line);
      if (!edge.matches()) {
        throw new IllegalArgumentException(source + " line " + (i + 1) + ": not a transition"
            + " ('FROM --> TO : EVENT'): '" + line.strip() + "'");
      }
      addEdge(states, edges, edge.group(1), edge.group(2), edge.group(3));
    }
    return new LifecycleDiagram(source, states, edges);
  }

  /**
   * Reads the one Mermaid block of a Markdown file.
   *
   * @param markdown a Markdown file with exactly one {@code ```mermaid} block
   * @return the diagram
   * @throws IllegalArgumentException if the file has no such block, or more than one
   * @throws UncheckedIOException if the file cannot be read
   */
  public static LifecycleDiagram read(Path markdown) {
    Objects.requireNonNull(markdown, "markdown");
    String text;
    try {
      text = Files.readString(markdown);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the lifecycle spec " + markdown, e);
    }
    Matcher block = BLOCK.matcher(text);
    if (!block.find()) {
      throw new IllegalArgumentException(markdown + " has no ```mermaid block");
    }
    String diagram = block.group(1);
    if (block.find()) {
      throw new IllegalArgumentException(markdown + " has more than one ```mermaid block");
    }
    return parse(diagram, markdown.toString());
  }

  /**
   * The diagram of {@code lifecycle}, as {@link Lifecycle#toMermaid()} draws it.
   *
   * @param lifecycle any lifecycle
   * @return its diagram
   */
  public static LifecycleDiagram of(Lifecycle<?, ?> lifecycle) {
    Objects.requireNonNull(lifecycle, "lifecycle");
    return parse(lifecycle.toMermaid(), "lifecycle '" + lifecycle.name() + "'");
  }

  /**
   * Checks that the Mermaid block in {@code spec} draws exactly {@code lifecycle}: the same
   * states, transitions and event labels, initial and terminal markers.
   *
   * @param spec a Markdown file with one {@code ```mermaid stateDiagram-v2} block
   * @param lifecycle the lifecycle the code declares
   * @throws AssertionFailedError listing what only the spec has and what only the lifecycle has
   *     (with both diagrams as expected and actual values, for an IDE's diff)
   */
  public static void assertMatches(Path spec, Lifecycle<?, ?> lifecycle) {
    read(spec).assertSameAs(of(lifecycle));
  }

  /**
   * Checks that {@code actual} draws the same lifecycle as this diagram.
   *
   * @param actual the other diagram
   * @throws AssertionFailedError listing the differences
   */
  public void assertSameAs(LifecycleDiagram actual) {
    Objects.requireNonNull(actual, "actual");
    String differences = differences(actual);
    if (!differences.isEmpty()) {
      throw new AssertionFailedError(source + " and " + actual.source + " differ:\n"
          + differences, String.join("\n", edges), String.join("\n", actual.edges));
    }
  }

  /**
   * What this diagram and {@code other} do not share, one line each; empty if they are the same.
   *
   * @param other the other diagram
   * @return the differences, readable
   */
  public String differences(LifecycleDiagram other) {
    Objects.requireNonNull(other, "other");
    StringBuilder out = new StringBuilder();
    section(out, "states only in " + source, minus(states, other.states));
    section(out, "states only in " + other.source, minus(other.states, states));
    section(out, "transitions only in " + source, minus(edges, other.edges));
    section(out, "transitions only in " + other.source, minus(other.edges, edges));
    return out.toString();
  }

  /**
   * The states drawn, markers excluded.
   *
   * @return the states, sorted
   */
  public Set<String> states() {
    return new TreeSet<>(states);
  }

  /**
   * Every edge as {@code FROM --> TO : EVENT} ({@code FROM --> TO} for a marker edge).
   *
   * @return the edges, sorted
   */
  public Set<String> edges() {
    return new TreeSet<>(edges);
  }

  private static void addEdge(Set<String> states, Set<String> edges, String from, String to,
      String event) {
    for (String state : List.of(from, to)) {
      if (!state.equals(MARKER)) {
        states.add(state);
      }
    }
    edges.add(from + " --> " + to + (event == null ? "" : " : " + event));
  }

  private static List<String> minus(Set<String> these, Set<String> those) {
    List<String> only = new ArrayList<>(new TreeSet<>(these));
    only.removeAll(those);
    return only;
  }

  private static void section(StringBuilder out, String title, List<String> lines) {
    if (!lines.isEmpty()) {
      out.append("  ").append(title).append(":\n");
      lines.forEach(line -> out.append("    ").append(line).append('\n'));
    }
  }

  @Override
  public String toString() {
    return "LifecycleDiagram[" + source + ", " + states.size() + " states, " + edges.size()
        + " edges]";
  }
}
