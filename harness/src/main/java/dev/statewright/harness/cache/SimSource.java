package dev.statewright.harness.cache;

import dev.statewright.event.EventSink;
import dev.statewright.event.EventSource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * A source the property drives: its first {@code failedStarts} starts throw (a RuntimeException,
 * then a {@link StackOverflowError}), and so does its close, it delivers upserts and deletes, bad ones included (a
 * negative version, a spec whose {@code equals} throws), and it watches the data of the Secret
 * every spec reads, telling the cache when that data changes. Data is compared by a SHA-256
 * digest here; a canary compares it by 32-bit hash. Simulation only: one thread.
 */
public class SimSource implements EventSource<String, SimSpec> {
  private final int failedStarts;
  private int startAttempts;
  private EventSink<String, SimSpec> sink;
  private Map<String, String> secretData = Map.of("token", "Aa");
  private int dependencyChanges;

  /**
   * A source whose first {@code failedStarts} starts throw.
   *
   * @param failedStarts how many starts throw: the first an IllegalStateException, later ones a
   *     StackOverflowError; 0 for a source that starts at once
   */
  public SimSource(int failedStarts) {
    this.failedStarts = failedStarts;
  }

  @Override
  public void start(EventSink<String, SimSpec> sink) {
    startAttempts++;
    if (startAttempts <= failedStarts) {
      if (startAttempts == 1) {
        throw new IllegalStateException("injected failure of the source's start #1");
      }
      throw new StackOverflowError("injected Error from the source's start #" + startAttempts);
    }
    this.sink = sink;
  }

  /** Stops delivering; a source whose starts threw throws here too, an Error once its starts did. */
  @Override
  public void close() {
    sink = null;
    if (failedStarts > 1) {
      throw new StackOverflowError("injected Error from the source's close");
    }
    if (failedStarts > 0) {
      throw new IllegalStateException("injected failure of the source's close");
    }
  }

  /**
   * Whether a start has succeeded (and no close followed).
   *
   * @return true while the source has a sink to deliver to
   */
  public boolean started() {
    return sink != null;
  }

  /**
   * How many starts were attempted.
   *
   * @return the number of start calls, those that threw included
   */
  public int startAttempts() {
    return startAttempts;
  }

  /**
   * How many starts throw before one succeeds.
   *
   * @return the count given at construction
   */
  public int failedStarts() {
    return failedStarts;
  }

  /** Delivers an upsert; false if not started. */
  boolean upsert(String key, SimSpec spec, long version) {
    if (sink == null) {
      return false;
    }
    sink.upsert(key, spec, version);
    return true;
  }

  /** Delivers a delete; false if not started. */
  boolean delete(String key, long version) {
    if (sink == null) {
      return false;
    }
    sink.delete(key, version);
    return true;
  }

  /**
   * The Secret's data is now {@code data}: if it differs from what the source saw last, the
   * source tells the cache. Returns whether it did.
   */
  boolean secretData(Map<String, String> data) {
    Map<String, String> before = secretData;
    secretData = Map.copyOf(data);
    if (sink == null || sameData(before, data)) {
      return false;
    }
    dependencyChanges++;
    sink.dependencyChanged(SimSpec.SECRET);
    return true;
  }

  /** The Secret's data as the source last saw it. */
  Map<String, String> secretData() {
    return secretData;
  }

  /** Times the source told the cache its Secret changed. */
  int dependencyChanges() {
    return dependencyChanges;
  }

  /**
   * Whether two versions of the Secret's data are the same: by SHA-256 digest of its entries.
   *
   * @param a the data the source saw last
   * @param b the data now
   * @return true if the digests are equal, so the cache is not told
   */
  protected boolean sameData(Map<String, String> a, Map<String, String> b) {
    return Arrays.equals(digest(a), digest(b));
  }

  /** SHA-256 over the sorted entries, each name and value length-prefixed (an injective encoding). */
  static byte[] digest(Map<String, String> data) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (var e : new TreeMap<>(data).entrySet()) {
        for (String part : new String[] {e.getKey(), e.getValue()}) {
          byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
          sha.update(new byte[] {(byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16),
              (byte) (bytes.length >>> 8), (byte) bytes.length});
          sha.update(bytes);
        }
      }
      return sha.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "SimSource[" + (failedStarts > 0 ? failedStarts + " failed starts, " : "")
        + startAttempts + " attempts]";
  }
}
