package dev.statewright.harness.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

/** The memo keeps its own copy of each key, and its hash has none of BitSet's collision families. */
class ExactMemoTest {
  @Test
  void anEntryIsACopyTheCallerCanNoLongerChange() {
    Memo memo = new ExactMemo();
    long[] working = {0b101, 0};
    assertTrue(memo.firstVisit(working, "s"));
    working[0] = 0b001; // the search backtracks in its working set
    assertFalse(memo.firstVisit(new long[] {0b101, 0}, "s"), "the stored pair is still there");
    assertTrue(memo.firstVisit(working, "s"), "and the edited set was never stored");
    assertEquals(2 * (96 + 16), memo.bytes());
  }

  @Test
  void canaryTheMutableMemoLosesAnEntryWhenTheCallerEditsIt() {
    Memo memo = new MutableMemo();
    long[] working = {0b101, 0};
    assertTrue(memo.firstVisit(working, "s"));
    working[0] = 0b001;
    assertTrue(memo.firstVisit(new long[] {0b101, 0}, "s"), "the entry changed under the memo: lost");
  }

  @Test
  void setsThatCollideUnderBitSetHashCodeHashApart() {
    assertEquals(bitSet(41).hashCode(), bitSet(72).hashCode(), "bits 41 and 72 cancel in BitSet");
    assertEquals(bitSet(5, 127).hashCode(), bitSet(5).hashCode(), "bit 127 adds nothing in BitSet");
    assertNotEquals(ExactMemo.hash(words(41), "s"), ExactMemo.hash(words(72), "s"));
    assertNotEquals(ExactMemo.hash(words(5, 127), "s"), ExactMemo.hash(words(5), "s"));
  }

  private static BitSet bitSet(int... bits) {
    BitSet set = new BitSet(128);
    for (int bit : bits) {
      set.set(bit);
    }
    return set;
  }

  private static long[] words(int... bits) {
    long[] words = new long[2];
    for (int bit : bits) {
      words[bit >>> 6] |= 1L << bit;
    }
    return words;
  }
}
