package dev.statewright.harness.linearizability;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * CANARY — the memo of the checker before issue 12, kept on purpose: each entry keeps the very
 * array it was given, which the search goes on changing, and hashes it as {@code BitSet} does.
 * Entries are lost (states explored again) and, through {@code BitSet.hashCode}'s collision
 * families, an edited entry can match a state never explored (a wrong ILLEGAL). It exists so the
 * checker's brute-force test can prove it catches this bug, and as the benchmark's baseline.
 */
final class MutableMemo implements Memo {
  private final Set<Entry> entries = new HashSet<>();
  private long bytes;

  @Override
  public boolean firstVisit(long[] linearized, Object state) {
    boolean added = entries.add(new Entry(linearized, state));
    bytes += added ? 96L + 8L * linearized.length : 0;
    return added;
  }

  @Override
  public long bytes() {
    return bytes;
  }

  /** As {@code record Memo(BitSet linearized, Object state)} hashed: 31 × BitSet hash + state hash. */
  private record Entry(long[] words, Object state) {
    @Override
    public boolean equals(Object other) {
      return other instanceof Entry that && Arrays.equals(words, that.words)
          && Objects.equals(state, that.state);
    }

    @Override
    public int hashCode() {
      return 31 * bitSetHash(words) + Objects.hashCode(state);
    }

    private static int bitSetHash(long[] words) {
      long h = 1234;
      for (int i = words.length; --i >= 0; ) {
        h ^= words[i] * (i + 1);
      }
      return (int) ((h >> 32) ^ h);
    }
  }
}
