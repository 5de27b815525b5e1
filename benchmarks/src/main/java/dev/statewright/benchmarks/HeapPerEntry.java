package dev.statewright.benchmarks;

import dev.statewright.cache.ClientCache;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Question 8's heap figure alone, in seconds: fills {@value ScaleBenchmark#KEYS} keys, all
 * CURRENT, with one shared client, exactly as {@link ScaleBenchmark#fill()} does, and prints the
 * same numbers (live bytes by class histogram and used heap after full GCs, per entry, beyond key,
 * spec and client) and, from the two class
 * histograms taken in this process (before the cache and after the fill), what each entry holds:
 * the classes whose instance count grew by at least a tenth of an instance per entry or whose
 * bytes grew by at least a byte per entry (the map's table), with their instances and bytes per
 * entry and their shallow size.
 *
 * <p>Run: {@code java -Xmx2g -cp benchmarks/target/benchmarks.jar
 * dev.statewright.benchmarks.HeapPerEntry}
 */
public final class HeapPerEntry {
  private HeapPerEntry() {
  }

  /**
   * Fills the cache and prints the figure and the per-entry histogram.
   *
   * @param args unused
   * @throws Exception if the histogram cannot be taken
   */
  public static void main(String[] args) throws Exception {
    int keys = ScaleBenchmark.KEYS;
    String[] names = ScaleBenchmark.keys();
    Long[] specs = ScaleBenchmark.specs();
    Object client = new Object();
    Map<String, long[]> before = ScaleBenchmark.histogram();
    long usedBefore = ScaleBenchmark.usedHeap();
    ClientCache<String, Long, Object> cache =
        ScaleBenchmark.filled(names, specs, (key, spec) -> client);
    long usedAfter = ScaleBenchmark.usedHeap();
    Map<String, long[]> after = ScaleBenchmark.histogram();
    System.out.printf("heap per entry beyond key, spec and client: %.1f B live (used heap %.1f B)%n",
        (double) (ScaleBenchmark.liveHeap(after) - ScaleBenchmark.liveHeap(before)) / keys,
        (double) (usedAfter - usedBefore) / keys);
    printGrowth(before, after, keys);
    if (cache.list().size() != keys) { // keeps the cache and the keys reachable until here
      throw new AssertionError("expected " + keys + " entries");
    }
    cache.close();
    System.out.println(names.length + " keys, " + specs.length + " specs");
  }

  private static void printGrowth(Map<String, long[]> before, Map<String, long[]> after,
      int keys) {
    List<String[]> rows = new ArrayList<>();
    double total = 0;
    for (Map.Entry<String, long[]> e : after.entrySet()) {
      long[] b = before.getOrDefault(e.getKey(), new long[2]);
      long count = e.getValue()[0] - b[0];
      long bytes = e.getValue()[1] - b[1];
      if (count * 10 < keys && bytes < keys) {
        continue; // fewer than one in ten entries and less than a byte an entry: not the entry's
      }
      total += (double) bytes / keys;
      rows.add(new String[] {
          String.format("%8.2f", (double) count / keys),
          String.format("%8.1f", (double) bytes / keys),
          String.format("%6d", count == 0 ? 0 : bytes / count),
          e.getKey()});
    }
    rows.sort((x, y) -> Double.compare(Double.parseDouble(y[1].trim()),
        Double.parseDouble(x[1].trim())));
    System.out.println("instances/entry   B/entry  shallow  class");
    for (String[] r : rows) {
      System.out.println("       " + r[0] + "  " + r[1] + "   " + r[2] + "  " + r[3]);
    }
    System.out.printf("sum of the classes above: %.1f B per entry%n", total);
  }

}
