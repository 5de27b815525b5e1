package dev.statewright.benchmarks.report;

import java.util.List;
import java.util.Locale;

/** SVG charts for the report, drawn from results alone. */
final class Charts {
  private static final List<String> READERS = List.of("ReadPathBenchmark.chmGet",
      "ReadPathBenchmark.caffeineGetIfPresent", "ReadPathBenchmark.snapshot",
      "ReadPathBenchmark.acquireClose");
  private static final String[] COLOURS = {"#4c72b0", "#dd8452", "#55a868", "#c44e52"};

  private Charts() { }

  /** A throughput in operations per microsecond, whatever unit JMH reported it in. */
  private static double perMicro(Report.Result r) {
    return switch (r.unit()) {
      case "ops/ns" -> r.score() * 1_000;
      case "ops/ms" -> r.score() / 1_000;
      case "ops/s" -> r.score() / 1_000_000;
      default -> r.score();
    };
  }

  /** Grouped bars: read throughput (ops/µs) of each reader at 1 and 2 threads. */
  static String readThroughput(List<Report.Result> all) {
    int width = 640;
    int height = 320;
    double max = all.stream().filter(r -> READERS.contains(r.name())).mapToDouble(Charts::perMicro)
        .max().orElse(1);
    StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n",
        width, height));
    svg.append("<text x=\"10\" y=\"16\">read throughput, ops/µs (higher is better)</text>\n");
    int group = 0;
    for (int threads = 1; threads <= 2; threads++, group++) {
      int x0 = 60 + group * 290;
      svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%d thread%s</text>%n", x0 + 80,
          height - 8, threads, threads == 1 ? "" : "s"));
      for (int i = 0; i < READERS.size(); i++) {
        int t = threads;
        String name = READERS.get(i);
        double score = all.stream().filter(r -> r.name().equals(name) && r.threads() == t)
            .mapToDouble(Charts::perMicro).findFirst().orElse(0);
        double h = (height - 60) * score / max;
        int x = x0 + i * 60;
        svg.append(String.format(Locale.ROOT,
            "<rect x=\"%d\" y=\"%.1f\" width=\"48\" height=\"%.1f\" fill=\"%s\"/>%n", x,
            height - 30 - h, h, COLOURS[i]));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\">%.0f</text>%n", x + 8,
            height - 34 - h, score));
      }
    }
    for (int i = 0; i < READERS.size(); i++) {
      svg.append(String.format(Locale.ROOT,
          "<rect x=\"%d\" y=\"26\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"35\">%s</text>%n",
          10 + i * 150, COLOURS[i], 24 + i * 150, READERS.get(i).replace("ReadPathBenchmark.", "")));
    }
    return svg.append("</svg>\n").toString();
  }

  /**
   * A scatter of the freshness sweep: builds per update (x) against staleness p99 (y), both on
   * log scales, one colour per policy, each point labelled interval/build in µs.
   */
  static String freshness(List<Report.Result> all) {
    List<Report.Result> cells = all.stream()
        .filter(r -> r.name().startsWith("FreshnessBenchmark.sweep[")).toList();
    int width = 760;
    int height = 400;
    int left = 70;
    int right = width - 130; // room for the labels of the points at one build per update
    int bottom = height - 50;
    double xMin = Math.log10(0.001);
    double xMax = 0.0;
    double yMin = 2.0; // 100 µs
    double yMax = 7.0; // 10 s
    StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n",
        width, height));
    svg.append("<text x=\"10\" y=\"16\">staleness p99 (µs, log) against builds per update (log);"
        + " lower and further left is better; points are labelled interval/build in µs</text>\n");
    svg.append(String.format(Locale.ROOT,
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", left, bottom,
        right, bottom));
    svg.append(String.format(Locale.ROOT,
        "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", left, left,
        bottom));
    for (double decade = xMin; decade <= xMax; decade++) {
      double x = left + (right - left) * (decade - xMin) / (xMax - xMin);
      svg.append(String.format(Locale.ROOT, "<text x=\"%.0f\" y=\"%d\">%s</text>%n", x - 10,
          bottom + 15, trim(Math.pow(10, decade))));
    }
    for (double decade = yMin; decade <= yMax; decade++) {
      double y = bottom - (bottom - 30) * (decade - yMin) / (yMax - yMin);
      svg.append(String.format(Locale.ROOT, "<text x=\"5\" y=\"%.0f\">%s</text>%n", y + 4,
          trim(Math.pow(10, decade))));
    }
    List<String> policies = cells.stream().map(c -> Sweeps.param(c, "policy")).distinct().toList();
    for (Report.Result cell : cells) {
      double perUpdate = cell.metrics().get("buildsPerUpdate") / 1000;
      double p99 = cell.metrics().get("stalenessP99Micros");
      double x = left + (right - left)
          * (Math.log10(Math.max(perUpdate, 0.001)) - xMin) / (xMax - xMin);
      double y = bottom - (bottom - 30)
          * (Math.log10(Math.max(p99, 100)) - yMin) / (yMax - yMin);
      String colour = COLOURS[policies.indexOf(Sweeps.param(cell, "policy")) % COLOURS.length];
      svg.append(String.format(Locale.ROOT,
          "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s/%s</text>%n",
          x, y, colour, x + 7, y - 4, Sweeps.param(cell, "intervalMicros"),
          Sweeps.param(cell, "buildMicros")));
    }
    for (int i = 0; i < policies.size(); i++) {
      svg.append(String.format(Locale.ROOT,
          "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>%n",
          left + 20, 44 + i * 16, COLOURS[i % COLOURS.length], left + 30, 48 + i * 16,
          policies.get(i)));
    }
    return svg.append("</svg>\n").toString();
  }

  /**
   * Question 9's scatter: builds per change (x, linear) against staleness p99 (y, log), one point
   * per policy and setting, the event-driven cache in its own colour.
   */
  static String freshnessPolicies(List<Report.Result> all) {
    List<Report.Result> cells = all.stream()
        .filter(r -> r.name().startsWith("FreshnessPoliciesBenchmark.changes[")).toList();
    int width = 760;
    int height = 400;
    int left = 70;
    int right = width - 170;
    int bottom = height - 50;
    double xMax = Math.max(1.5, cells.stream()
        .mapToDouble(c -> c.metrics().get("buildsPerChange") / 1000).max().orElse(1.5));
    double yMin = 1.0; // 10 µs
    double yMax = 6.0; // 1 s
    StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n",
        width, height));
    svg.append("<text x=\"10\" y=\"16\">staleness p99 (µs, log) against builds per change;"
        + " lower and further left is better</text>\n");
    svg.append(String.format(Locale.ROOT,
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", left, bottom,
        right, bottom));
    svg.append(String.format(Locale.ROOT,
        "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", left, left,
        bottom));
    for (double tick = 0; tick <= xMax; tick += 0.5) {
      double x = left + (right - left) * tick / xMax;
      svg.append(String.format(Locale.ROOT, "<text x=\"%.0f\" y=\"%d\">%.1f</text>%n", x - 8,
          bottom + 15, tick));
    }
    for (double decade = yMin; decade <= yMax; decade++) {
      double y = bottom - (bottom - 30) * (decade - yMin) / (yMax - yMin);
      svg.append(String.format(Locale.ROOT, "<text x=\"5\" y=\"%.0f\">%s</text>%n", y + 4,
          trim(Math.pow(10, decade))));
    }
    for (Report.Result cell : cells) {
      String policy = Sweeps.param(cell, "policy");
      double x = left + (right - left) * cell.metrics().get("buildsPerChange") / 1000 / xMax;
      double p99 = Math.max(cell.metrics().get("stalenessP99Micros"), 10);
      double y = bottom - (bottom - 30) * (Math.log10(p99) - yMin) / (yMax - yMin);
      String colour = policy.equals("eventDriven") ? COLOURS[2]
          : policy.startsWith("ttl") ? COLOURS[3] : policy.startsWith("refresh") ? COLOURS[1]
          : COLOURS[0];
      svg.append(String.format(Locale.ROOT,
          "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>%n",
          x, y, colour, x + 7, y - 4, policy));
    }
    return svg.append("</svg>\n").toString();
  }

  private static String trim(double value) {
    return value >= 1 ? String.format(Locale.ROOT, "%.0f", value)
        : String.format(Locale.ROOT, "%s", value).replaceAll("0+$", "");
  }
}
