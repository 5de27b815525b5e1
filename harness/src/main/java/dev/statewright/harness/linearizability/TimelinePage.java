package dev.statewright.harness.linearizability;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Renders a verdict's partitions as one self-contained HTML page (inline SVG and CSS, no script):
 * one lane per client, each operation a bar from invocation to response on a compressed ticket
 * axis, the longest linearizable prefix in green numbered in linearization order, the operation
 * that cannot be placed in red, unknown operations dashed and open-ended. Each bar's tooltip is
 * the operation in full and, for the prefix, the spec state after it; the prefix is also listed
 * in order below the picture with those states.
 */
final class TimelinePage {
  private static final int LANE = 34;
  private static final int LABELS = 90;
  private static final int TOP = 24;

  private TimelinePage() { }

  static String render(Verdict<?, ?> verdict) {
    StringBuilder html = new StringBuilder(8192);
    html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>Linearizability: ").append(verdict.kind()).append("</title><style>")
        .append("body{font:14px sans-serif;margin:2em}svg{border:1px solid #ddd;background:#fff}")
        .append(".prefix{fill:#8fd18f}.stuck{fill:#ef6b6b;stroke:#900;stroke-width:2}")
        .append(".other{fill:#d5d5d5}.pending{fill-opacity:.45;stroke:#555;stroke-dasharray:4 3}")
        .append("text{font:11px monospace}.lane{fill:#333}</style></head><body>\n")
        .append("<h1>").append(verdict.kind()).append("</h1>\n<p>")
        .append(escape(verdict.reason().isEmpty() ? "" : verdict.reason() + ". "))
        .append(verdict.steps()).append(" search steps. Green: the longest linearizable prefix, ")
        .append("numbered in linearization order. Red: the first operation that cannot be placed ")
        .append("after it. Grey: not placed. Dashed: result unknown (may take effect any time after ")
        .append("its invocation, or never). Hover a bar for the operation.</p>\n");
    verdict.partitions().forEach(p -> section(html, p));
    return html.append("</body></html>\n").toString();
  }

  private static void section(StringBuilder html, PartitionVerdict<?, ?> p) {
    html.append("<h2>partition ").append(escape(String.valueOf(p.partition()))).append(": ")
        .append(p.kind() == Verdict.Kind.ILLEGAL ? "not linearizable" : "undecided")
        .append("</h2>\n<p>").append(p.operations().size()).append(" operations, ")
        .append(p.steps()).append(" steps; cannot place: <b>")
        .append(escape(String.valueOf(p.unplaceable()))).append("</b></p>\n");
    svg(html, p);
    html.append("<ol>");
    for (int i = 0; i < p.longestPrefix().size(); i++) {
      html.append("<li>").append(escape(p.longestPrefix().get(i) + "  ⇒ state " + p.prefixStates().get(i)))
          .append("</li>");
    }
    html.append("</ol>\n");
  }

  private static void svg(StringBuilder html, PartitionVerdict<?, ?> p) {
    Map<String, Integer> lanes = lanes(p.operations());
    Map<Long, Integer> ranks = ranks(p.operations());
    double unit = Math.max(6, Math.min(72, 1600.0 / (ranks.size() + 1)));
    double width = LABELS + (ranks.size() + 1) * unit + 20;
    Map<Object, Integer> order = new HashMap<>();
    for (int i = 0; i < p.longestPrefix().size(); i++) {
      order.put(p.longestPrefix().get(i), i + 1);
    }
    html.append(String.format(java.util.Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
        + "width=\"%.0f\" height=\"%d\">", width, TOP + lanes.size() * LANE + 10));
    lanes.forEach((client, lane) -> html.append("<text class=\"lane\" x=\"4\" y=\"")
        .append(TOP + lane * LANE + 20).append("\">").append(escape(client)).append("</text>"));
    for (Operation<?, ?> op : p.operations()) {
      double x1 = LABELS + ranks.get(op.invoked()) * unit;
      double x2 = op.deadline() == Long.MAX_VALUE ? width - 10 : LABELS + ranks.get(op.responded()) * unit;
      Integer position = order.get(op);
      String tooltip = op + (position == null ? "" : "\n#" + position + " of the longest linearizable prefix; "
          + "state after: " + p.prefixStates().get(position - 1));
      bar(html, op, new Span(x1, Math.max(x2, x1 + 4), TOP + lanes.get(op.client()) * LANE), position,
          tooltip, op.equals(p.unplaceable()));
    }
    html.append("</svg>\n");
  }

  /** Where a bar goes: from x1 to x2 in the lane whose top is y. */
  private record Span(double x1, double x2, int y) { }

  private static void bar(StringBuilder html, Operation<?, ?> op, Span at, Integer position,
      String tooltip, boolean stuck) {
    String kind = stuck ? "stuck" : position != null ? "prefix" : "other";
    double x1 = at.x1();
    double x2 = at.x2();
    int y = at.y();
    html.append(String.format(java.util.Locale.ROOT,
        "<g><title>%s</title><rect class=\"%s%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"26\" rx=\"3\"/>",
        escape(tooltip), kind, op.pending() ? " pending" : "", x1, y + 2, x2 - x1));
    String label = (position != null ? "#" + position + " " : "") + op.input() + " → "
        + (op.result().isOk() ? String.valueOf(op.result().value()) : op.result().toString());
    int fits = (int) ((x2 - x1 - 6) / 6.6);
    if (fits > 2) {
      html.append(String.format(java.util.Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%s</text>", x1 + 3,
          y + 19, escape(label.length() > fits ? label.substring(0, fits - 1) + "…" : label)));
    }
    html.append("</g>");
  }

  private static Map<String, Integer> lanes(List<? extends Operation<?, ?>> ops) {
    Map<String, Integer> lanes = new LinkedHashMap<>();
    ops.forEach(op -> lanes.putIfAbsent(op.client(), lanes.size()));
    return lanes;
  }

  /** Each distinct finite ticket's position on the axis, so idle stretches take no room. */
  private static Map<Long, Integer> ranks(List<? extends Operation<?, ?>> ops) {
    TreeSet<Long> tickets = new TreeSet<>();
    for (Operation<?, ?> op : ops) {
      tickets.add(op.invoked());
      if (op.responded() != Long.MAX_VALUE) {
        tickets.add(op.responded());
      }
    }
    Map<Long, Integer> ranks = new HashMap<>();
    new ArrayList<>(tickets).forEach(t -> ranks.put(t, ranks.size()));
    return ranks;
  }

  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
