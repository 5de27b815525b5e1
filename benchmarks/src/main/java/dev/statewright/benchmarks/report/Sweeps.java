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
 * The report's sections for the questions answered by distributions and sweeps rather than by one
 * ratio of two throughputs: reads during rebuilds (2), freshness against rebuild cost (4) and
 * scale (8). Each adds its targets to the summary and returns its Markdown.
 */
final class Sweeps {
  private static final Pattern PARAM = Pattern.compile("[\\[,](\\w+)=([^,\\]]+)");

  private Sweeps() { }

  /**
   * Question 2: the reader's p99.9 beside a rebuilding writer, against a map's beside a writer (the
   * target), and the two comparisons with the same threads on both sides: against a map beside
   * the same hand-offs, and with builds on the writer's thread against the plain map.
   */
  static String readsDuringRebuilds(List<Result> all, Map<String, Object> summary) {
    Optional<Result> statewright = Report.find(all, "ReadsDuringRebuildsBenchmark.statewright", 2);
    Optional<Result> map = Report.find(all, "ReadsDuringRebuildsBenchmark.map", 2);
    if (statewright.isEmpty() || map.isEmpty()) {
      return "";
    }
    double reader = statewright.get().metrics().getOrDefault("read.p99.9", Double.NaN);
    double baseline = map.get().metrics().getOrDefault("mapRead.p99.9", Double.NaN);
    double ratio = reader / baseline;
    put(summary, "reads_during_rebuilds.reader_p999_vs_map_reader", ratio, "<= 2.0", ratio <= 2.0);
    // the benchmark's teardown fails the trial if any read had to wait, so a result means none did
    put(summary, "reads_during_rebuilds.blocked_reads", 0, "0", true);
    StringBuilder md = new StringBuilder(String.format(Locale.ROOT, """

        ## 2. Reads during rebuilds

        One reader (`acquireAsync()+close()`, `boundedStaleness`) beside one thread upserting new \
        specs of the same 64 keys, each as soon as the last is served, against a `ConcurrentHashMap` reader beside a \
        writer replacing values. Sampled latency, same run, on a fixed pre-touched heap.

        | reader | threads beside the reader | p50 | p99 | p99.9 | against map reader p99.9 | target | met |
        |---|---|---|---|---|---|---|---|
        | statewright | writer, build worker | %.0f ns | %.0f ns | %.0f ns | %.2f× | ≤ 2× | %s |
        | map | writer | %.0f ns | %.0f ns | %.0f ns | 1.00× | — | — |
        """, statewright.get().metrics().get("read.p50"), statewright.get().metrics().get("read.p99"),
        reader, ratio, ratio <= 2.0 ? "met" : "**missed**", map.get().metrics().get("mapRead.p50"),
        map.get().metrics().get("mapRead.p99"), baseline));
    sameThreads(all, summary, md, reader, baseline);
    md.append("\nNo read waited for a build: a read that would have fails the trial, and this one "
        + "completed.\n");
    return md.toString();
  }

  /** The two comparisons with the same threads on both sides, when the run has their groups. */
  private static void sameThreads(List<Result> all, Map<String, Object> summary, StringBuilder md,
      double reader, double baseline) {
    Optional<Result> inline = Report.find(all, "ReadsDuringRebuildsBenchmark.statewrightInline", 2);
    Optional<Result> handoffs = Report.find(all, "ReadsDuringRebuildsBenchmark.mapHandoffs", 2);
    if (inline.isEmpty() || handoffs.isEmpty()) {
      return;
    }
    double inlineReader = inline.get().metrics().getOrDefault("inlineRead.p99.9", Double.NaN);
    double handoffReader = handoffs.get().metrics().getOrDefault("handoffRead.p99.9", Double.NaN);
    double fair = reader / handoffReader;
    double readPath = inlineReader / baseline;
    put(summary, "reads_during_rebuilds.reader_p999_vs_map_reader_beside_same_handoffs", fair,
        "<= 2.0", fair <= 2.0);
    put(summary, "reads_during_rebuilds.inline_builds_reader_p999_vs_map_reader", readPath,
        "<= 2.0", readPath <= 2.0);
    md.append(String.format(Locale.ROOT, """
        | statewright, builds on the writer's thread | writer | %.0f ns | %.0f ns | %.0f ns | %.2f× | ≤ 2× | %s |
        | map beside hand-offs | writer, worker | %.0f ns | %.0f ns | %.0f ns | %.2f× | — | — |

        On two cores the `statewright` reader shares the machine with more threads than the map \
        reader: each rebuild wakes a build worker and then the waiting writer, and a woken thread \
        may preempt the reader. With the same threads on both sides: statewright against the map \
        beside the same hand-offs (its writer hands each replace, with a build's work, to a pool \
        thread and waits) **%.2f×** (≤ 2×: %s); the cache with builds on the writer's thread, so \
        no worker exists, against the plain map, in the table (%.2f×). The target row above stays \
        the one the question asks. Per iteration, the p99.9 of the readers beside hand-offs is \
        either a few microseconds or tens of them, by where the scheduler put the woken threads, \
        so with few iterations the ratio against the map beside hand-offs swings from run to \
        run. Measured by timing every read, JMH's sampled p99.9 of these readers came out near \
        their p99.99, so these p99.9s rank about one read in ten thousand; the benchmark's \
        javadoc has the numbers.
        """, inline.get().metrics().get("inlineRead.p50"), inline.get().metrics().get("inlineRead.p99"),
        inlineReader, readPath, readPath <= 2.0 ? "met" : "**missed**",
        handoffs.get().metrics().get("handoffRead.p50"), handoffs.get().metrics().get("handoffRead.p99"),
        handoffReader, handoffReader / baseline, fair, fair <= 2.0 ? "met" : "**missed**", readPath));
  }

  /** Question 4: staleness and builds per update over the sweep, with the chart. */
  static String freshness(List<Result> all, Map<String, Object> summary) {
    List<Result> cells = all.stream()
        .filter(r -> r.name().startsWith("FreshnessBenchmark.sweep[")).toList();
    Optional<Result> roundTrip = Report.find(all, "FreshnessBenchmark.pacedRoundTrip", 1);
    Optional<Result> backToBack = Report.find(all, "FreshnessBenchmark.executorRoundTrip", 1);
    if (cells.isEmpty() || roundTrip.isEmpty() || backToBack.isEmpty()) {
      return "";
    }
    double roundTripP99 = roundTrip.get().metrics().get("roundTripP99Micros");
    double backToBackP99 = backToBack.get().metrics().get("p99");
    put(summary, "freshness.paced_round_trip_p99_micros", roundTripP99, "report only",
        "report only");
    put(summary, "freshness.back_to_back_round_trip_p99_micros", backToBackP99, "report only",
        "report only");
    StringBuilder md = new StringBuilder(String.format(Locale.ROOT, """

        ## 4. Freshness against rebuild cost

        200 updates to one key, one every *interval*, to a factory taking *build* (R); staleness is \
        from `upsert` until that version or a newer one is served. `coalescing` is the client \
        cache; `perUpdate` the naive baseline, one build per update in order, same run. T is how \
        long the updates lasted. Under sustained updates (interval < R) the target is builds ≤ \
        1.05 × (T/R + 1); for isolated updates (interval > R), staleness p99 − R ≤ 2 × the \
        executor round trip p99, measured in the same run at the isolated updates' pace (a task \
        handed every 10 ms to a parked worker, as each isolated build is): **%.1f µs** (back to \
        back, to a running worker: %.1f µs). Builds are parked for R, and a park overshoots on a \
        busy machine, so R there is the builds' measured p99. Before the measured updates the \
        cache's path runs 20,000 times on another key, so it runs compiled code.

        | interval | build R | policy | builds | T/R + 1 | builds per update | staleness p50 | \
        staleness p99 | build p99 | target | met |
        |---|---|---|---|---|---|---|---|---|---|---|
        """, roundTripP99, backToBackP99));
    for (Result cell : cells) {
      int interval = Integer.parseInt(param(cell, "intervalMicros"));
      int build = Integer.parseInt(param(cell, "buildMicros"));
      String policy = param(cell, "policy");
      Map<String, Double> m = cell.metrics();
      String id = String.format(Locale.ROOT, "freshness.%s.interval%dus.build%dus", policy,
          interval, build);
      String target = "—";
      Object met = "report only";
      if (policy.equals("coalescing") && interval < build) {
        double ratio = m.get("builds") / m.get("buildBound");
        target = "builds ≤ 1.05 × (T/R + 1)";
        met = ratio <= 1.05;
        put(summary, id + ".builds_vs_bound", ratio, "<= 1.05", met);
      } else if (policy.equals("coalescing") && interval > build) {
        double excess = (m.get("stalenessP99Micros") - m.get("buildP99Micros")) / roundTripP99;
        target = String.format(Locale.ROOT, "(p99 − build p99) / round trip = %.2f ≤ 2", excess);
        met = excess <= 2;
        put(summary, id + ".staleness_excess_vs_round_trip", excess, "<= 2.0", met);
      }
      md.append(String.format(Locale.ROOT,
          "| %d µs | %d µs | %s | %.0f | %.1f | %.3f | %.0f µs | %.0f µs | %.0f µs | %s | %s |%n",
          interval, build, policy, m.get("builds"), m.get("buildBound"),
          m.get("buildsPerUpdate") / 1000, m.get("stalenessP50Micros"),
          m.get("stalenessP99Micros"), m.get("buildP99Micros"), target,
          met instanceof Boolean b ? (b ? "met" : "**missed**") : met));
    }
    md.append("""

        Where an isolated update's staleness goes beyond its build, per update: the hand-off, from \
        `upsert` (or the baseline's submit) until the factory is called, and the finish, from the \
        factory's return until the update is seen: for the cache, applying the outcome, retiring \
        the old client, telling the listeners and answering the waiters; for the baseline, its \
        bare future. Both hand off to a parked worker.

        | interval | build R | policy | hand-off p50 | hand-off p99 | finish p50 | finish p99 |
        |---|---|---|---|---|---|---|
        """);
    for (Result cell : cells) {
      int interval = Integer.parseInt(param(cell, "intervalMicros"));
      int build = Integer.parseInt(param(cell, "buildMicros"));
      Map<String, Double> m = cell.metrics();
      if (interval > build && m.containsKey("handOffP99Micros")) {
        md.append(String.format(Locale.ROOT, "| %d µs | %d µs | %s | %.0f µs | %.0f µs | %.0f µs "
            + "| %.0f µs |%n", interval, build, param(cell, "policy"), m.get("handOffP50Micros"),
            m.get("handOffP99Micros"), m.get("finishP50Micros"), m.get("finishP99Micros")));
      }
    }
    return md.append("""

        Reading the chart: each point is one cell; further left means fewer builds per update, \
        lower means fresher. Where updates come faster than builds, coalescing trades a bounded \
        staleness (at most about two builds) for far fewer builds; where they come slower, both \
        policies build once per update and the cache's staleness is the build plus a hand-off.

        ![staleness against builds per update](results/freshness.svg)
        """).toString();
  }

  /** Question 8: 100,000 keys under 10,000 updates per second. */
  static String scale(List<Result> all, Map<String, Object> summary) {
    Optional<Result> scale = all.stream().filter(r -> r.name().startsWith("ScaleBenchmark."))
        .findFirst();
    if (scale.isEmpty()) {
      return "";
    }
    Map<String, Double> m = scale.get().metrics();
    double heap = m.get("heapBytesPerEntry");
    double used = m.get("usedHeapBytesPerEntry");
    put(summary, "scale.heap_bytes_per_entry", heap, "<= 256", heap <= 256);
    put(summary, "scale.used_heap_bytes_per_entry", used, "report only", "report only");
    put(summary, "scale.staleness_p99_micros", m.get("stalenessP99Micros"), "report only",
        "report only");
    put(summary, "scale.builds_per_update", m.get("builds") / m.get("updates"), "report only",
        "report only");
    return String.format(Locale.ROOT, """

        ## 8. Scale

        100,000 keys, all CURRENT, then 10,000 updates per second to random keys for %s s. Heap \
        per entry: the bytes of live objects (a class histogram after a full GC) with the \
        entries, minus before, per entry; the keys, specs (a distinct object each) and the one \
        shared client are made before, so not counted. Beside it, the heap the collector reports \
        used after full GCs, by the same difference: it also holds what G1 keeps around the \
        objects, and moved with the region size and collector where the histogram did not. \
        `HeapPerEntry` prints both with the classes each entry holds.

        | updates | builds | staleness p99 | heap per entry beyond key, spec and client | used heap per entry | target | met |
        |---|---|---|---|---|---|---|
        | %.0f | %.0f | %.0f µs | %.0f B | %.0f B | ≤ 256 B | %s |
        """, param(scale.get(), "seconds"), m.get("updates"), m.get("builds"),
        m.get("stalenessP99Micros"), heap, used, heap <= 256 ? "met" : "**missed**");
  }

  /**
   * Question 9: the event-driven cache against the policies users pick instead, on one workload;
   * each anchor checked for domination (lower p99 staleness at no more builds per change).
   */
  static String freshnessPolicies(List<Result> all, Map<String, Object> summary) {
    List<Result> cells = all.stream()
        .filter(r -> r.name().startsWith("FreshnessPoliciesBenchmark.changes[")).toList();
    Optional<Result> cache = cells.stream()
        .filter(r -> param(r, "policy").equals("eventDriven")).findFirst();
    if (cells.isEmpty() || cache.isEmpty()) {
      return "";
    }
    Map<String, Double> c = cache.get().metrics();
    StringBuilder md = new StringBuilder("""

        ## 9. Freshness against the policies users pick instead

        One workload for every policy, same run: 200 spec changes to one key per operation, one \
        every 5 ms, a build parked for 1 ms, a reader reading the key's client every 100 µs; 3 \
        operations of warm-up, 5 measured. Staleness runs from a change until a read returns a \
        client built from it; detection, from a change until a build of it (or of a newer spec) \
        starts: for the cache the hand-off to a build worker, for a TTL or a period the wait for \
        it. `eventDriven` is the client cache fed by change events; `ttl*` the field fix (recheck \
        the spec on a read older than the TTL); `refreshAfterWrite*` Caffeine's, with a loader \
        that rebuilds only a changed spec; `resync*` a reconcile loop's periodic full resync into \
        the client cache. Target: the cache's point dominates every anchor's (lower p99 staleness \
        at no more builds per change).

        | policy | staleness p50 | staleness p99 | staleness max | detection p50 | detection p99 \
        | builds per change | spec reads per read | dominated by the cache |
        |---|---|---|---|---|---|---|---|---|
        """);
    boolean all9 = true;
    for (Result cell : cells) {
      String policy = param(cell, "policy");
      Map<String, Double> m = cell.metrics();
      Object dominated = "—";
      if (!policy.equals("eventDriven")) {
        boolean d = c.get("stalenessP99Micros") < m.get("stalenessP99Micros")
            && c.get("buildsPerChange") <= m.get("buildsPerChange");
        all9 &= d;
        dominated = d;
        put(summary, "freshness_policies." + policy + ".dominated_by_cache",
            m.get("stalenessP99Micros"), "cache p99 lower at no more builds per change", d);
      }
      md.append(String.format(Locale.ROOT,
          "| %s | %.0f µs | %.0f µs | %.0f µs | %.0f µs | %.0f µs | %.3f | %.3f | %s |%n", policy,
          m.get("stalenessP50Micros"), m.get("stalenessP99Micros"), m.get("stalenessMaxMicros"),
          m.get("detectionP50Micros"), m.get("detectionP99Micros"),
          m.get("buildsPerChange") / 1000, m.get("specReadsPerRead") / 1000,
          dominated instanceof Boolean b ? (b ? "met" : "**missed**") : dominated));
    }
    put(summary, "freshness_policies.cache_dominates_every_anchor", c.get("stalenessP99Micros"),
        "true", all9);
    return md.append("""

        Reading the chart: each point is one policy at one setting; further left means fewer \
        builds per change, lower means fresher. A "missed" row names an anchor the cache does not \
        dominate.

        ![staleness against builds per change, every policy](results/freshness-policies.svg)
        """).toString();
  }

  private static void put(Map<String, Object> summary, String id, double measured, String target,
      Object met) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("measured", measured);
    entry.put("target", target);
    entry.put("met", met);
    summary.put(id, entry);
  }

  static String param(Result result, String name) {
    Matcher matcher = PARAM.matcher(result.name());
    while (matcher.find()) {
      if (matcher.group(1).equals(name)) {
        return matcher.group(2);
      }
    }
    throw new IllegalArgumentException(result.name() + " has no parameter " + name);
  }
}
