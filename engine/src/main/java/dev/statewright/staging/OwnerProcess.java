package dev.statewright.staging;

import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which process owns a scope directory, encoded in its name as {@code scope-<pid>-<start>-…}
 * (start = the process start time in epoch milliseconds), so a later {@code StagingArea.open} can
 * tell a dead owner's leftovers from a live process's scopes without reading anything, even when
 * the owner died before writing a single file.
 */
record OwnerProcess(long pid, long startMillis) {
  private static final Pattern SCOPE = Pattern.compile("scope-(\\d+)-(\\d+)-.*");

  static OwnerProcess current() {
    ProcessHandle self = ProcessHandle.current();
    return new OwnerProcess(self.pid(), startMillis(self));
  }

  /** The owner a scope directory's name records, if it is a scope directory at all. */
  static Optional<OwnerProcess> ofScopeDirectory(String name) {
    Matcher m = SCOPE.matcher(name);
    return m.matches()
        ? Optional.of(new OwnerProcess(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))))
        : Optional.empty();
  }

  String prefix() {
    return "scope-" + pid + "-" + startMillis + "-";
  }

  /** Whether this process is still running (a reused pid with another start time is not it). */
  boolean isAlive() {
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .map(p -> startMillis == 0 || startMillis(p) == 0 || startMillis(p) == startMillis)
        .orElse(false);
  }

  private static long startMillis(ProcessHandle process) {
    return process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
  }
}
