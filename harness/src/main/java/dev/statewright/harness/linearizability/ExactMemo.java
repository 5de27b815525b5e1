package dev.statewright.harness.linearizability;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * An exact memo: each entry holds its own copy of the linearized set, made when it is stored, so
 * no entry ever changes; the hash chains every word through a 64-bit finaliser, so every bit of
 * every word reaches every bit of the hash and there are no structured collision families (unlike
 * {@code BitSet.hashCode}, where bits 41 and 72 cancel and bit 127 adds nothing). Equality, not
 * the hash, decides a hit.
 */
final class ExactMemo implements Memo {
  /** Object headers, references, the array header and the table's node and slot, per entry. */
  private static final long ENTRY_OVERHEAD = 96;

  private final Set<Key> entries = new HashSet<>();
  private long bytes;

  @Override
  public boolean firstVisit(long[] linearized, Object state) {
    Key probe = new Key(linearized, state, hash(linearized, state));
    if (entries.contains(probe)) {
      return false;
    }
    entries.add(new Key(linearized.clone(), state, probe.hash));
    bytes += ENTRY_OVERHEAD + 8L * linearized.length;
    return true;
  }

  @Override
  public long bytes() {
    return bytes;
  }

  static int hash(long[] words, Object state) {
    long h = mix(Objects.hashCode(state));
    for (long word : words) {
      h = mix(h ^ word);
    }
    return (int) (h ^ (h >>> 32));
  }

  /** The splitmix64 finaliser: every input bit affects every output bit. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31) ^ 0x9E3779B97F4A7C15L;
  }

  /** A memo entry; its words are never changed once it is stored. */
  private static final class Key {
    final long[] words;
    final Object state;
    final int hash;

    Key(long[] words, Object state, int hash) {
      this.words = words;
      this.state = state;
      this.hash = hash;
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Key that && hash == that.hash && Arrays.equals(words, that.words)
          && Objects.equals(state, that.state);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
