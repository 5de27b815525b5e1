package dev.statewright.benchmarks.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Renders {@code REPORT.md}, {@code results/summary.json} and the charts from the JMH JSON files
 * in a results folder. Every number comes from those files; nothing is typed by hand. Each
 * target compares two benchmarks of the same class, measured in the same run and fork.
 */
public final class Report {
  private static final String PACKAGE = "dev.statewright.benchmarks.";

  /** Whether a ratio must be at least or at most its bound. */
  enum Bound { AT_LEAST, AT_MOST }

  /**
   * One target: {@code subject} against {@code baseline} at {@code threads} threads.
   *
   * @param id the key in summary.json
   * @param question which benchmark question it answers
   * @param subject the measured benchmark, {@code Class.method}
   * @param baseline its baseline in the same class
   * @param threads the thread count of the run
   * @param bound at least or at most
   * @param limit the bound's value; NaN for a ratio reported without a target
   */
  record Target(String id, String question, String subject, String baseline, int threads,
      Bound bound, double limit) { }

  static final List<Target> TARGETS = List.of(
      new Target("read.snapshot_vs_chm.t1", "1. Read path", "ReadPathBenchmark.snapshot",
          "ReadPathBenchmark.chmGet", 1, Bound.AT_LEAST, 0.75),
      new Target("read.snapshot_vs_chm.t2", "1. Read path", "ReadPathBenchmark.snapshot",
          "ReadPathBenchmark.chmGet", 2, Bound.AT_LEAST, 0.75),
      new Target("read.snapshot_vs_caffeine.t1", "1. Read path", "ReadPathBenchmark.snapshot",
          "ReadPathBenchmark.caffeineGetIfPresent", 1, Bound.AT_LEAST, 1.0),
      new Target("read.snapshot_vs_caffeine.t2", "1. Read path", "ReadPathBenchmark.snapshot",
          "ReadPathBenchmark.caffeineGetIfPresent", 2, Bound.AT_LEAST, 1.0),
      new Target("read.acquire_cost_vs_atomic_pair.t1", "1. Read path", "ReadPathBenchmark.acquireClose",
          "ReadPathBenchmark.atomicLongPair", 1, Bound.AT_MOST, 2.0),
      new Target("read.acquire_cost_vs_atomic_pair.t2", "1. Read path", "ReadPathBenchmark.acquireClose",
          "ReadPathBenchmark.atomicLongPair", 2, Bound.AT_MOST, 1.5),
      new Target("read.minimal_lease_cost_vs_atomic_pair.t1", "1. Read path",
          "ReadPathBenchmark.minimalLease", "ReadPathBenchmark.atomicLongPair", 1, Bound.AT_MOST,
          Double.NaN),
      new Target("read.acquire_cost_vs_minimal_lease.t1", "1. Read path",
          "ReadPathBenchmark.acquireClose", "ReadPathBenchmark.minimalLease", 1, Bound.AT_MOST,
          Double.NaN),
      new Target("transition.fire_cost_vs_cas", "5. Transitions", "TransitionBenchmark.kernelFire",
          "TransitionBenchmark.atomicReferenceCas", 1, Bound.AT_MOST, 1.5),
      new Target("transition.stateless4j_cost_vs_cas", "5. Transitions",
          "TransitionBenchmark.stateless4jFire", "TransitionBenchmark.atomicReferenceCas", 1,
          Bound.AT_MOST, Double.NaN),
      new Target("transition.squirrel_cost_vs_cas", "5. Transitions",
          "TransitionBenchmark.squirrelFire", "TransitionBenchmark.atomicReferenceCas", 1,
          Bound.AT_MOST, Double.NaN),
      new Target("lease.counted_cost_vs_atomic_pair.t1", "6. Leases", "LeaseBenchmark.countedAcquireClose",
          "LeaseBenchmark.atomicLongPair", 1, Bound.AT_MOST, Double.NaN),
      new Target("lease.counted_cost_vs_atomic_pair.t2", "6. Leases", "LeaseBenchmark.countedAcquireClose",
          "LeaseBenchmark.atomicLongPair", 2, Bound.AT_MOST, Double.NaN),
      new Target("lease.named_cost_vs_atomic_pair.t1", "6. Leases", "LeaseBenchmark.acquireClose",
          "LeaseBenchmark.atomicLongPair", 1, Bound.AT_MOST, Double.NaN),
      new Target("lease.counted_cost_vs_reentrant_lock.t1", "6. Leases",
          "LeaseBenchmark.countedAcquireClose", "LeaseBenchmark.reentrantLock", 1, Bound.AT_MOST,
          Double.NaN),
      new Target("staging.staged_ten_targets_cost_vs_one_raw_copy", "7. Staging",
          "StagingBenchmark.stagedOnceForTenTargets", "StagingBenchmark.oneRawCopy", 1,
          Bound.AT_MOST, 1.1),
      new Target("staging.copy_per_target_cost_vs_one_raw_copy", "7. Staging",
          "StagingBenchmark.copyPerTarget", "StagingBenchmark.oneRawCopy", 1, Bound.AT_MOST,
          Double.NaN));

  /**
   * A target on a secondary metric of one benchmark, such as an aux counter.
   *
   * @param id the key in summary.json
   * @param question which benchmark question it answers
   * @param benchmark {@code Class.method[param=value]}
   * @param metric the secondary metric's name
   * @param limit the most it may be
   */
  record MetricTarget(String id, String question, String benchmark, String metric, double limit) { }

  static final List<MetricTarget> METRIC_TARGETS = List.of(
      new MetricTarget("coalescing.builds.n10", "3. Coalescing", "CoalescingBenchmark.coalesced[updates=10]", "builds", 2),
      new MetricTarget("coalescing.builds.n100", "3. Coalescing", "CoalescingBenchmark.coalesced[updates=100]", "builds", 2),
      new MetricTarget("coalescing.builds.n1000", "3. Coalescing", "CoalescingBenchmark.coalesced[updates=1000]", "builds", 2),
      new MetricTarget("coalescing.naive_builds.n1000", "3. Coalescing",
          "CoalescingBenchmark.rebuildPerUpdate[updates=1000]", "builds", Double.NaN));

  /** One benchmark's result in one run: mean score, per-fork means, unit, mode, B/op. */
  record Result(String name, int threads, String mode, String unit, double score,
      List<Double> forkMeans, double bytesPerOp, Map<String, Double> metrics) {
    /** Cost per operation, whatever the mode: lower is better. */
    double cost(double value) {
      return mode.equals("thrpt") ? 1 / value : value;
    }
  }

  private Report() { }

  /** Reads every {@code *.json} in {@code results} (but the summary) and writes the report into {@code out}. */
  public static void generate(Path results, Path out) throws IOException {
    List<Result> all = read(results);
    List<Row> rows = new ArrayList<>();
    Map<String, Object> summary = new LinkedHashMap<>();
    for (Target target : TARGETS) {
      Optional<Result> subject = find(all, target.subject(), target.threads());
      Optional<Result> baseline = find(all, target.baseline(), target.threads());
      if (subject.isEmpty() || baseline.isEmpty()) {
        continue;
      }
      Row row = row(target, subject.get(), baseline.get());
      rows.add(row);
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("measured", row.ratio());
      entry.put("target", Double.isNaN(target.limit()) ? "report only"
          : (target.bound() == Bound.AT_LEAST ? ">= " : "<= ") + target.limit());
      entry.put("met", row.met());
      summary.put(target.id(), entry);
    }
    all.stream().filter(r -> r.name().equals("ReadPathBenchmark.snapshot")).findFirst().ifPresent(r -> {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("measured", r.bytesPerOp());
      entry.put("target", "0 B/op");
      entry.put("met", r.bytesPerOp() < 0.5);
      summary.put("read.snapshot_bytes_per_op", entry);
    });
    List<String> metricRows = new ArrayList<>();
    for (MetricTarget target : METRIC_TARGETS) {
      find(all, target.benchmark(), 1).map(r -> r.metrics().get(target.metric())).ifPresent(value -> {
        Object met = Double.isNaN(target.limit()) ? "report only" : value <= target.limit();
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("measured", value);
        entry.put("target", Double.isNaN(target.limit()) ? "report only" : "<= " + target.limit());
        entry.put("met", met);
        summary.put(target.id(), entry);
        metricRows.add(String.format(Locale.ROOT, "| %s | %s | %.1f | %s | %s |", target.benchmark(),
            target.metric(), value, Double.isNaN(target.limit()) ? "—" : "≤ " + target.limit(),
            verdict(met)));
      });
    }
    Map<Integer, String> sweeps = new TreeMap<>(Map.of(
        2, Sweeps.readsDuringRebuilds(all, summary), 4, Sweeps.freshness(all, summary),
        8, Sweeps.scale(all, summary), 9, Sweeps.freshnessPolicies(all, summary),
        10, CheckerTable.linearizability(all, summary)));
    Files.createDirectories(out.resolve("results"));
    Files.writeString(out.resolve("results/summary.json"), Json.write(summary) + "\n");
    Files.writeString(out.resolve("results/read-throughput.svg"), Charts.readThroughput(all));
    Files.writeString(out.resolve("results/freshness.svg"), Charts.freshness(all));
    Files.writeString(out.resolve("results/freshness-policies.svg"), Charts.freshnessPolicies(all));
    Files.writeString(out.resolve("REPORT.md"), markdown(all, rows, metricRows, sweeps));
  }

  /** One target's outcome: the ratio, its range over forks, and met, missed or report only. */
  record Row(Target target, double ratio, double min, double max, Object met) { }

  private static Row row(Target target, Result subject, Result baseline) {
    // a cost ratio for AT_MOST targets, a speed ratio for AT_LEAST ones; both subject over baseline
    boolean cost = target.bound() == Bound.AT_MOST;
    double ratio = ratio(cost, subject, baseline, subject.score(), baseline.score());
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (int f = 0; f < Math.min(subject.forkMeans().size(), baseline.forkMeans().size()); f++) {
      double r = ratio(cost, subject, baseline, subject.forkMeans().get(f), baseline.forkMeans().get(f));
      min = Math.min(min, r);
      max = Math.max(max, r);
    }
    Object met = Double.isNaN(target.limit()) ? "report only"
        : target.bound() == Bound.AT_LEAST ? ratio >= target.limit() : ratio <= target.limit();
    return new Row(target, ratio, min, max, met);
  }

  private static double ratio(boolean cost, Result subject, Result baseline, double s, double b) {
    return cost ? subject.cost(s) / baseline.cost(b) : baseline.cost(b) / subject.cost(s);
  }

  /** The report, its questions in order 1 to 10, each section rendered from the results. */
  private static String markdown(List<Result> all, List<Row> rows,
      List<String> metricRows, Map<Integer, String> sweeps) {
    StringBuilder md = new StringBuilder("# Statewright benchmarks\n\n");
    md.append("Generated by `dev.statewright.benchmarks.report.Report` from the JMH JSON in ")
        .append("`benchmarks/results/`; do not edit by hand. Every ratio compares two benchmarks of ")
        .append("one class, measured in the same run and fork; min–max is over forks.\n\n");
    md.append(String.format(Locale.ROOT, "Machine: %d cores, %s %s; JVM: %s%n%n",
        Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"),
        System.getProperty("os.arch"), System.getProperty("java.vm.name") + " "
            + System.getProperty("java.version")));
    Map<Integer, StringBuilder> sections = new TreeMap<>();
    sweeps.forEach((question, text) -> sections.put(question, new StringBuilder(text)));
    String question = "";
    for (Row row : rows) {
      Target t = row.target();
      StringBuilder section = sections.computeIfAbsent(number(t.question()), q -> new StringBuilder());
      if (!t.question().equals(question)) {
        question = t.question();
        section.append("\n## ").append(question).append("\n\n")
            .append("| measured | against | threads | ratio | min–max | target | met |\n")
            .append("|---|---|---|---|---|---|---|\n");
      }
      section.append(String.format(Locale.ROOT, "| %s | %s | %d | %.2f× %s | %.2f–%.2f | %s | %s |%n",
          t.subject(), t.baseline(), t.threads(), row.ratio(),
          t.bound() == Bound.AT_MOST ? "cost" : "speed", row.min(), row.max(),
          Double.isNaN(t.limit()) ? "—" : (t.bound() == Bound.AT_LEAST ? "≥ " : "≤ ") + t.limit() + "×",
          verdict(row.met())));
    }
    if (!metricRows.isEmpty()) {
      StringBuilder section = sections.computeIfAbsent(3, q -> new StringBuilder());
      section.append("\n## 3. Coalescing: builds per operation (one in-flight build, N updates)\n\n")
          .append("| benchmark | counter | per operation | target | met |\n|---|---|---|---|---|\n");
      metricRows.forEach(r -> section.append(r).append('\n'));
    }
    sections.values().forEach(md::append);
    md.append("\n## Read throughput by threads\n\n![read throughput](results/read-throughput.svg)\n");
    md.append("\n## Raw scores\n\n| benchmark | threads | score | unit | B/op |\n|---|---|---|---|---|\n");
    for (Result r : all) {
      md.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %s | %.1f |%n",
          r.name().replace("|", "\\|"), r.threads(),
          r.score(), r.unit(), r.bytesPerOp()));
    }
    return md.toString();
  }

  /** The number a question's title starts with: 5 for "5. Transitions". */
  private static int number(String question) {
    return Integer.parseInt(question.substring(0, question.indexOf('.')));
  }

  private static String verdict(Object met) {
    return met instanceof Boolean b ? (b ? "met" : "**missed**") : String.valueOf(met);
  }

  static Optional<Result> find(List<Result> all, String name, int threads) {
    return all.stream().filter(r -> r.name().equals(name) && r.threads() == threads).findFirst();
  }

  @SuppressWarnings("unchecked")
  static List<Result> read(Path results) throws IOException {
    List<Result> all = new ArrayList<>();
    try (Stream<Path> files = Files.list(results)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".json")
          && !f.getFileName().toString().equals("summary.json")).sorted().toList()) {
        for (Object item : (List<Object>) Json.parse(Files.readString(file))) {
          all.add(result((Map<String, Object>) item));
        }
      }
    }
    return all;
  }

  @SuppressWarnings("unchecked")
  private static Result result(Map<String, Object> jmh) {
    String name = ((String) jmh.get("benchmark")).replace(PACKAGE, "");
    Map<String, Object> primary = (Map<String, Object>) jmh.get("primaryMetric");
    List<Double> forkMeans = new ArrayList<>();
    for (Object fork : (List<Object>) primary.getOrDefault("rawData", List.of())) {
      forkMeans.add(((List<Object>) fork).stream().mapToDouble(v -> (Double) v).average().orElse(Double.NaN));
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    boolean sampled = "sample".equals(jmh.get("mode"));
    if (sampled) {
      percentiles("", primary, metrics);
    }
    Map<String, Object> secondary = (Map<String, Object>) jmh.getOrDefault("secondaryMetrics", Map.of());
    // per iteration, not summed: event counters' scores add up over iterations
    secondary.forEach((metric, value) -> {
      metrics.put(metric.replace("·", ""), perIteration((Map<String, Object>) value));
      if (sampled) {
        percentiles(metric + ".", (Map<String, Object>) value, metrics);
      }
    });
    Map<String, Object> params = (Map<String, Object>) jmh.get("params");
    if (params != null) {
      StringBuilder suffix = new StringBuilder();
      params.forEach((k, v) -> suffix.append(suffix.length() == 0 ? "[" : ",").append(k).append('=').append(v));
      name += suffix.append(']');
    }
    return new Result(name, ((Double) jmh.get("threads")).intValue(), (String) jmh.get("mode"),
        (String) primary.get("scoreUnit"), (Double) primary.get("score"), forkMeans,
        metrics.getOrDefault("gc.alloc.rate.norm", Double.NaN), metrics);
  }

  /** A sampled metric's p50, p99 and p99.9, as {@code <prefix>p99} and so on. */
  @SuppressWarnings("unchecked")
  private static void percentiles(String prefix, Map<String, Object> metric,
      Map<String, Double> into) {
    Map<String, Object> percentiles = (Map<String, Object>) metric.get("scorePercentiles");
    if (percentiles != null) {
      for (String p : List.of("50.0", "99.0", "99.9")) {
        into.put(prefix + "p" + p.replace(".0", ""), (Double) percentiles.get(p));
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static double perIteration(Map<String, Object> metric) {
    Object raw = metric.get("rawData");
    if (raw instanceof List<?> forks && !forks.isEmpty()) {
      return forks.stream().flatMap(f -> ((List<Object>) f).stream()).mapToDouble(v -> (Double) v)
          .average().orElse(Double.NaN);
    }
    return (Double) metric.get("score");
  }

  /** {@code Report <results folder> <output folder>}. */
  public static void main(String[] args) throws IOException {
    generate(Path.of(args.length > 0 ? args[0] : "benchmarks/results"),
        Path.of(args.length > 1 ? args[1] : "benchmarks"));
  }
}
