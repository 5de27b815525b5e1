package dev.statewright.etcd;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Latencies of consistent reads and of direct etcd quorum gets over the runs of one test, in
 * nanoseconds; {@link #print} reports percentiles and their ratio.
 */
final class Latencies {
  final List<Long> consistent = Collections.synchronizedList(new ArrayList<>());
  final List<Long> asOf = Collections.synchronizedList(new ArrayList<>());
  final List<Long> direct = Collections.synchronizedList(new ArrayList<>());

  void print() {
    double consistentP50 = percentile(consistent, 50);
    double directP50 = percentile(direct, 50);
    System.out.printf("consistent-read latency: acquireConsistent p50 %.2f ms, p99 %.2f ms (%d"
            + " reads); acquireAsOf(last write) p50 %.2f ms, p99 %.2f ms (%d); direct etcd"
            + " quorum get p50 %.2f ms, p99 %.2f ms (%d); acquireConsistent / quorum get at p50:"
            + " %.2f%n", consistentP50, percentile(consistent, 99), consistent.size(),
        percentile(asOf, 50), percentile(asOf, 99), asOf.size(), directP50,
        percentile(direct, 99), direct.size(), consistentP50 / directP50);
  }

  private static double percentile(List<Long> nanos, int p) {
    List<Long> sorted;
    synchronized (nanos) {
      sorted = new ArrayList<>(nanos);
    }
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    Collections.sort(sorted);
    int index = Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1);
    return sorted.get(Math.max(0, index)) / 1e6;
  }
}
