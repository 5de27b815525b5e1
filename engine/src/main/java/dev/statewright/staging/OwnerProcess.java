package dev.statewright.staging;

import java.time.Instant;

/**
 * The process that owns a scope, as a label for messages and names only: {@code scope-<pid>-<start>-…}
 * (start = the process start time in epoch milliseconds). Whether the owner is alive is never
 * judged from it: a pid means nothing in another PID namespace, so liveness is the owner file's
 * lock ({@link ScopeLock}).
 */
record OwnerProcess(long pid, long startMillis) {

  static OwnerProcess current() {
    ProcessHandle self = ProcessHandle.current();
    return new OwnerProcess(self.pid(), self.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
  }

  String prefix() {
    return "scope-" + pid + "-" + startMillis + "-";
  }

  /** What the owner file says about its process, for a human. */
  String label(String scope) {
    return "pid=" + pid + "\nstarted=" + startMillis + "\nscope=" + scope + "\n";
  }
}
