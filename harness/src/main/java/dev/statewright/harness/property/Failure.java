package dev.statewright.harness.property;

import java.util.List;

/**
 * A failing run, shrunk.
 *
 * @param property the property's name
 * @param masterSeed the seed of the whole check
 * @param runSeed the seed of the failing run: {@code -Dstatewright.replay=runSeed} replays it
 * @param where "simulated, random" or "real threads"
 * @param runsBefore how many runs passed before this one
 * @param original the program as generated
 * @param shrunk the smallest program found that still fails
 * @param outcome what the shrunk program's failing run showed
 * @param <S> the model state
 * @param <R> the system under test
 */
public record Failure<S, R>(String property, long masterSeed, long runSeed, String where,
    int runsBefore, Program<S, R> original, Program<S, R> shrunk, Outcome outcome) {

  private static final int TRACE_LINES = 80;

  /** The report printed on failure. */
  public String report() {
    StringBuilder out = new StringBuilder();
    out.append("property '").append(property).append("' failed after ").append(runsBefore)
        .append(" passing runs\n");
    out.append("  master seed ").append(masterSeed).append(", run seed ").append(runSeed)
        .append(" (").append(where).append("); replay with -Dstatewright.replay=").append(runSeed)
        .append('\n');
    outcome.violations().forEach(v -> out.append("  violation: ").append(v).append('\n'));
    if (outcome.verdict() != null) {
      outcome.verdict().timeline().ifPresent(file ->
          out.append("  timeline: ").append(file.toAbsolutePath().toUri()).append('\n'));
    }
    out.append("shrunk from ").append(original.size()).append(" to ").append(shrunk.size())
        .append(" commands:\n").append(shrunk);
    out.append("history:\n");
    outcome.history().forEach(op -> out.append("  ").append(op).append('\n'));
    List<String> trace = outcome.trace();
    if (!trace.isEmpty()) {
      out.append("interleaving (last ").append(Math.min(TRACE_LINES, trace.size())).append(" of ")
          .append(trace.size()).append(" steps):\n");
      trace.subList(Math.max(0, trace.size() - TRACE_LINES), trace.size())
          .forEach(line -> out.append("  ").append(line).append('\n'));
    }
    return out.toString();
  }
}
