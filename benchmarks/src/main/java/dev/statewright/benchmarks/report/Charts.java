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
}
