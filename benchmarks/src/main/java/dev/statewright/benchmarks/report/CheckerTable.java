package dev.statewright.benchmarks.report;

import dev.statewright.benchmarks.report.Report.Result;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The report's section for question 9, the linearizability checker: per generated history, the
 * time, search steps and states of the exact memo beside the same search with the old, mutable
 * memo, from {@code LinearizabilityBenchmark}'s counters (sums per iteration, divided by checks).
 */
final class CheckerTable {
  private static final String EXACT = "LinearizabilityBenchmark.exactMemo[";
  private static final Pattern PARAM = Pattern.compile("[\\[,](\\w+)=([^,\\]]+)");

  private CheckerTable() { }

  /** The section, and the largest step ratio in the summary; empty without results. */
  static String linearizability(List<Result> all, Map<String, Object> summary) {
    StringBuilder rows = new StringBuilder();
    double worst = 0;
    for (Result exact : all.stream().filter(r -> r.name().startsWith(EXACT)).toList()) {
      Optional<Result> old = Report.find(all, exact.name().replace(".exactMemo[", ".mutableMemo["),
          exact.threads());
      if (old.isPresent()) {
        double ratio = perCheck(old.get(), "steps") / perCheck(exact, "steps");
        worst = Math.max(worst, ratio);
        rows.append(row(params(exact.name()), exact, old.get(), ratio));
      }
    }
    if (rows.length() == 0) {
      return "";
    }
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("measured", worst);
    entry.put("target", "report only");
    entry.put("met", "report only");
    summary.put("linearizability.old_steps_over_exact_steps.max", entry);
    return """

        ## 10. Linearizability checker

        One generated history per cell, checked whole with a budget of 1,000,000 steps: the exact \
        memo against the same search with the memo before issue 12 (entries edited after they were \
        stored), same fork. Steps and states are per history; "undecided" and "illegal" are the \
        share of checks so answered (an illegal answer on a linearizable history is wrong).

        | model | ops | clients | linearizable | exact µs | exact steps | exact states | exact undecided | \
        old µs | old steps | old states | old undecided | old illegal | old / exact steps |
        |---|---|---|---|---|---|---|---|---|---|---|---|---|---|
        """ + rows;
  }

  private static String row(Map<String, String> p, Result exact, Result old, double ratio) {
    return String.format(Locale.ROOT,
        "| %s | %s | %s | %s | %.1f | %.0f | %.0f | %.0f%% | %.1f | %.0f | %.0f | %.0f%% | %.0f%% | %.2f× |%n",
        p.get("model"), p.get("operations"), p.get("clients"), p.get("linearizable"), exact.score(),
        perCheck(exact, "steps"), perCheck(exact, "states"), 100 * perCheck(exact, "undecided"),
        old.score(), perCheck(old, "steps"), perCheck(old, "states"), 100 * perCheck(old, "undecided"),
        100 * perCheck(old, "illegal"), ratio);
  }

  private static double perCheck(Result r, String counter) {
    return r.metrics().getOrDefault(counter, Double.NaN) / r.metrics().getOrDefault("checks", Double.NaN);
  }

  private static Map<String, String> params(String name) {
    Map<String, String> params = new LinkedHashMap<>();
    Matcher m = PARAM.matcher(name);
    while (m.find()) {
      params.put(m.group(1), m.group(2));
    }
    return params;
  }
}
