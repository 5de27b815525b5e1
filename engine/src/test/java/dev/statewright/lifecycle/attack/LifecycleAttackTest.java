package dev.statewright.lifecycle.attack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.lifecycle.IllegalTransitionException;
import dev.statewright.lifecycle.Lifecycle;
import dev.statewright.lifecycle.StateMachine;
import dev.statewright.lifecycle.Transition;
import dev.statewright.lifecycle.TransitionListener;
import dev.statewright.testing.Seeds;
import dev.statewright.testing.Workers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * Attacks {@link Lifecycle} and {@link StateMachine} from outside: bad tables, races on fire and
 * fireIf, hostile listeners, terminal and single-state lifecycles, enums with many constants.
 */
class LifecycleAttackTest {
  enum Ring { S0, S1, S2, S3, S4, S5, S6, S7, S8, S9 }

  enum Go { NEXT, RESET }

  enum One { ONLY }

  enum Nothing { }

  enum Abc { A, B, C }

  /** S0 -NEXT-> S1 ... -NEXT-> S9; only S9 -RESET-> S0; NEXT refused in S9, RESET elsewhere. */
  static final Lifecycle<Ring, Go> RING = ring();

  private static Lifecycle<Ring, Go> ring() {
    Lifecycle.Builder<Ring, Go> b = Lifecycle.builder("ring", Ring.class, Go.class).initial(Ring.S0);
    for (int i = 0; i < 9; i++) {
      b.permit(Ring.values()[i], Go.NEXT, Ring.values()[i + 1]);
    }
    return b.permit(Ring.S9, Go.RESET, Ring.S0).build();
  }

  // Lifecycle: "build() refuses a table with a state unreachable from the initial state, a
  // terminal state with an exit, a non-terminal state without one, or two targets for one event";
  // the brief's reading: refused with a message naming what is wrong.
  @Test
  void badTablesAreRefusedWithAMessageNamingWhatIsWrong() {
    assertThatThrownBy(() -> Lifecycle.builder("t", Abc.class, Go.class)
        .permit(Abc.A, Go.NEXT, Abc.B).permit(Abc.B, Go.NEXT, Abc.C).terminal(Abc.C).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("initial");
    assertThatThrownBy(() -> Lifecycle.builder("t", Abc.class, Go.class).initial(Abc.A)
        .permit(Abc.A, Go.NEXT, Abc.B).permit(Abc.B, Go.NEXT, Abc.C).permit(Abc.C, Go.RESET, Abc.A)
        .terminal(Abc.C).build())
        .as("terminal with an exit").isInstanceOf(IllegalStateException.class).hasMessageContaining("C");
    assertThatThrownBy(() -> Lifecycle.builder("t", Abc.class, Go.class).initial(Abc.A)
        .permit(Abc.A, Go.NEXT, Abc.B).permit(Abc.A, Go.RESET, Abc.C).permit(Abc.C, Go.RESET, Abc.A)
        .build())
        .as("B not terminal, no exit").isInstanceOf(IllegalStateException.class).hasMessageContaining("B");
    assertThatThrownBy(() -> Lifecycle.builder("t", Abc.class, Go.class).initial(Abc.A)
        .permit(Abc.A, Go.NEXT, Abc.B).permit(Abc.B, Go.NEXT, Abc.A).permit(Abc.C, Go.NEXT, Abc.A)
        .build())
        .as("C unreachable").isInstanceOf(IllegalStateException.class).hasMessageContaining("C");
    assertThatThrownBy(() -> Lifecycle.builder("t", Abc.class, Go.class).initial(Abc.A)
        .permit(Abc.A, Go.NEXT, Abc.B).terminal(Abc.B, Abc.C).build())
        .as("C terminal but unreachable").isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("C");
    assertThatThrownBy(() -> Lifecycle.builder("t", Abc.class, Go.class).initial(Abc.A)
        .permit(Abc.A, Go.NEXT, Abc.B).permit(Abc.A, Go.NEXT, Abc.C))
        .as("two targets").isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("A").hasMessageContaining("NEXT");
    assertThatThrownBy(() -> Lifecycle.builder(" ", Abc.class, Go.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Lifecycle.builder(null, Abc.class, Go.class)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Lifecycle.builder("t", null, Go.class)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Lifecycle.builder("t", Abc.class, null)).isInstanceOf(NullPointerException.class);
    Lifecycle.Builder<Abc, Go> b = Lifecycle.builder("t", Abc.class, Go.class);
    assertThatThrownBy(() -> b.initial(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> b.permit(null, Go.NEXT, Abc.A)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> b.permit(Abc.A, null, Abc.A)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> b.permit(Abc.A, Go.NEXT, null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> b.terminal(Abc.A, null)).isInstanceOf(NullPointerException.class);
  }

  // Builder.build: "the builder may be reused but the lifecycle does not change"; initial: "a later
  // call replaces it".
  @Test
  void aLifecycleDoesNotChangeWhenItsBuilderIsReused() {
    Lifecycle.Builder<Abc, Go> b = Lifecycle.builder("t", Abc.class, Go.class).initial(Abc.B).initial(Abc.A)
        .permit(Abc.A, Go.NEXT, Abc.B).permit(Abc.B, Go.NEXT, Abc.C).terminal(Abc.C);
    Lifecycle<Abc, Go> first = b.build();
    List<Transition<Abc, Go>> before = List.copyOf(first.transitions());
    String mermaid = first.toMermaid();
    b.permit(Abc.A, Go.RESET, Abc.C);
    Lifecycle<Abc, Go> second = b.build();
    assertThat(first.initial()).isEqualTo(Abc.A);
    assertThat(first.transitions()).isEqualTo(before);
    assertThat(first.next(Abc.A, Go.RESET)).isEmpty();
    assertThat(first.toMermaid()).isEqualTo(mermaid);
    assertThat(second.next(Abc.A, Go.RESET)).contains(Abc.C);
    assertThatThrownBy(() -> first.transitions().add(new Transition<>(Abc.A, Go.RESET, Abc.A)))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> first.permitted(Abc.A).add(Go.RESET)).isInstanceOf(UnsupportedOperationException.class);
  }

  // A lifecycle with one state: terminal (with an event enum that has no constants at all), or
  // looping on itself.
  @Test
  void lifecyclesWithOneStateWork() {
    Lifecycle<One, Nothing> still = Lifecycle.builder("still", One.class, Nothing.class)
        .initial(One.ONLY).terminal(One.ONLY).build();
    StateMachine<One, Nothing> m = still.newMachine("k");
    assertThat(m.state()).isEqualTo(One.ONLY);
    assertThat(still.isTerminal(One.ONLY)).isTrue();
    assertThat(still.permitted(One.ONLY)).isEmpty();
    assertThat(still.transitions()).isEmpty();
    assertThat(still.toMermaid()).contains("ONLY");

    Lifecycle<One, Go> loop = Lifecycle.builder("loop", One.class, Go.class)
        .initial(One.ONLY).permit(One.ONLY, Go.NEXT, One.ONLY).build();
    AtomicInteger told = new AtomicInteger();
    StateMachine<One, Go> l = loop.newMachine("k", (key, t) -> told.incrementAndGet());
    assertThat(l.fire(Go.NEXT)).isEqualTo(One.ONLY);
    assertThat(l.fireIf(One.ONLY, Go.NEXT)).isTrue();
    assertThat(told.get()).isEqualTo(2);
    assertThatThrownBy(() -> l.fire(Go.RESET)).isInstanceOf(IllegalTransitionException.class);

    assertThatThrownBy(() -> Lifecycle.builder("stuck", One.class, Go.class).initial(One.ONLY).build())
        .as("one state, not terminal, no exit").isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ONLY");
  }

  // Enums with many constants: every (state, event) pair of a 300 x 130 table answers as declared.
  @Test
  void enumsWithManyConstantsFollowTheirTableExactly() {
    SplittableRandom random = Seeds.random("enumsWithManyConstantsFollowTheirTableExactly");
    Wide.State[] s = Wide.State.values();
    Wide.Event[] e = Wide.Event.values();
    Map<Wide.State, Map<Wide.Event, Wide.State>> table = new EnumMap<>(Wide.State.class);
    Lifecycle.Builder<Wide.State, Wide.Event> b = Lifecycle.builder("wide", Wide.State.class, Wide.Event.class)
        .initial(s[0]);
    for (int i = 0; i < s.length - 1; i++) {
      Map<Wide.Event, Wide.State> row = new EnumMap<>(Wide.Event.class);
      row.put(e[i % e.length], s[i + 1]); // a chain, so every state is reachable
      for (int k = random.nextInt(0, 6); k > 0; k--) {
        row.putIfAbsent(e[random.nextInt(e.length)], s[random.nextInt(s.length)]);
      }
      row.forEach((ev, to) -> b.permit(s[table.size()], ev, to));
      table.put(s[i], row);
    }
    b.terminal(s[s.length - 1]);
    Lifecycle<Wide.State, Wide.Event> wide = b.build();
    for (Wide.State from : s) {
      Map<Wide.Event, Wide.State> row = table.getOrDefault(from, Map.of());
      assertThat(wide.permitted(from)).isEqualTo(row.keySet());
      for (Wide.Event ev : e) {
        assertThat(wide.next(from, ev)).as("%s --%s-->", from, ev).isEqualTo(Optional.ofNullable(row.get(ev)));
      }
    }
    StateMachine<Wide.State, Wide.Event> m = wide.newMachine("w");
    for (int i = 0; i < s.length - 1; i++) {
      assertThat(m.fire(e[i % e.length])).isEqualTo(s[i + 1]);
      if (m.state() != s[i + 1]) {
        break;
      }
    }
    assertThat(m.state()).isEqualTo(s[s.length - 1]);
    assertThatThrownBy(() -> m.fire(e[0])).isInstanceOf(IllegalTransitionException.class)
        .satisfies(x -> assertThat(((IllegalTransitionException) x).permitted()).isEmpty());
  }

  // StateMachine: "a single state word changed only by compare-and-set"; fire: "Applies event to
  // the current state", else IllegalTransitionException; the listener is "Called once per
  // transition". Seeded stress: 4 threads fire NEXT and RESET at one ring; every success is one
  // step of the ring, every refusal names the state the event was refused in.
  @Test
  void concurrentFiresApplyEachEventExactlyOnceToTheStateItWasCheckedAgainst() throws Exception {
    SplittableRandom random = Seeds.random("concurrentFiresApplyEachEventExactlyOnceToTheStateItWasCheckedAgainst");
    for (int round = 0; round < 30; round++) {
      AtomicLongArray toldFrom = new AtomicLongArray(Ring.values().length);
      AtomicLong badTold = new AtomicLong();
      StateMachine<Ring, Go> m = RING.newMachine("ring-" + round, (key, t) -> {
        if (RING.next(t.from(), t.event()).orElse(null) != t.to()) {
          badTold.incrementAndGet();
        }
        toldFrom.incrementAndGet(t.from().ordinal());
      });
      AtomicLong nexts = new AtomicLong();
      AtomicLong resets = new AtomicLong();
      List<String> wrongRefusals = Collections.synchronizedList(new ArrayList<>());
      long seed = random.nextLong();
      Workers.run(4, w -> {
        SplittableRandom mine = new SplittableRandom(seed + w);
        for (int i = 0; i < 5_000; i++) {
          Go event = mine.nextInt(10) == 0 ? Go.RESET : Go.NEXT;
          try {
            Ring after = m.fire(event);
            (event == Go.NEXT ? nexts : resets).incrementAndGet();
            if (event == Go.RESET && after != Ring.S0 || event == Go.NEXT && after == Ring.S0) {
              wrongRefusals.add(event + " returned " + after);
            }
          } catch (IllegalTransitionException refused) {
            boolean right = event == Go.NEXT ? refused.state() == Ring.S9 : refused.state() != Ring.S9;
            if (!right || refused.event() != event) {
              wrongRefusals.add(event + " refused in " + refused.state());
            }
          }
        }
      });
      int r = round;
      assertThat(wrongRefusals).as("round %d", r).isEmpty();
      assertThat(badTold.get()).isZero();
      // S0 -> ... -> S9 -> RESET: each reset consumed exactly nine NEXTs
      assertThat(nexts.get()).as("round %d: NEXTs for %d resets ending in %s", r, resets.get(), m.state())
          .isEqualTo(9 * resets.get() + m.state().ordinal());
      for (Ring from : Ring.values()) {
        long expected = from == Ring.S9 ? resets.get()
            : resets.get() + (from.ordinal() < m.state().ordinal() ? 1 : 0);
        assertThat(toldFrom.get(from.ordinal())).as("round %d: transitions told from %s", r, from)
            .isEqualTo(expected);
      }
    }
  }

  // fireIf: "Applies event only if the machine is in expected; @return whether the transition was
  // made". Threads read the state and fireIf against what they read: the trues are exactly the
  // steps made.
  @Test
  void concurrentFireIfMakesExactlyTheTransitionsItReports() throws Exception {
    SplittableRandom random = Seeds.random("concurrentFireIfMakesExactlyTheTransitionsItReports");
    for (int round = 0; round < 30; round++) {
      AtomicLong told = new AtomicLong();
      StateMachine<Ring, Go> m = RING.newMachine("r", (key, t) -> told.incrementAndGet());
      AtomicLong nexts = new AtomicLong();
      AtomicLong resets = new AtomicLong();
      long seed = random.nextLong();
      Workers.run(4, w -> {
        SplittableRandom mine = new SplittableRandom(seed + w);
        for (int i = 0; i < 5_000; i++) {
          Ring seen = mine.nextInt(8) == 0 ? Ring.values()[mine.nextInt(10)] : m.state();
          Go event = seen == Ring.S9 ? Go.RESET : Go.NEXT;
          if (m.fireIf(seen, event)) {
            (event == Go.NEXT ? nexts : resets).incrementAndGet();
          }
        }
      });
      assertThat(nexts.get()).as("round %d", round).isEqualTo(9 * resets.get() + m.state().ordinal());
      assertThat(told.get()).isEqualTo(nexts.get() + resets.get());
    }
  }

  // fireIf: "@throws IllegalTransitionException if the event is not permitted in expected", even
  // when the machine is elsewhere; and false, changing nothing, when it is permitted there but the
  // machine is not in expected.
  @Test
  void fireIfChecksTheEventAgainstTheExpectedState() {
    StateMachine<Ring, Go> m = RING.newMachine("k");
    assertThatThrownBy(() -> m.fireIf(Ring.S9, Go.NEXT)).isInstanceOf(IllegalTransitionException.class);
    assertThat(m.fireIf(Ring.S3, Go.NEXT)).isFalse();
    assertThat(m.state()).isEqualTo(Ring.S0);
    assertThat(m.fireIf(Ring.S0, Go.NEXT)).isTrue();
    assertThat(m.state()).isEqualTo(Ring.S1);
  }

  /** A ring machine whose listener throws each of {@code bad} in turn, noting who told it. */
  private static StateMachine<Ring, Go> throwingListener(List<Throwable> bad, AtomicInteger n,
      List<Thread> threads) {
    return RING.newMachine("k", (key, t) -> {
      threads.add(Thread.currentThread());
      Throwable t2 = bad.get(n.getAndIncrement() % bad.size());
      LifecycleAttackTest.<RuntimeException>sneaky(t2);
    });
  }

  // TransitionListener: "A listener that throws is logged and otherwise ignored: it cannot undo a
  // transition"; "Called once per transition, on the thread that made it".
  @Test
  void aListenerThatThrowsAnExceptionCannotUndoOrBreakATransition() {
    AtomicInteger n = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    StateMachine<Ring, Go> m = throwingListener(List.of(new IllegalStateException("x"),
        new UnsupportedOperationException("y")), n, threads);
    for (int i = 1; i <= 9; i++) {
      int step = i;
      assertThatCode(() -> assertThat(m.fire(Go.NEXT)).isEqualTo(Ring.values()[step]))
          .doesNotThrowAnyException();
    }
    assertThatCode(() -> assertThat(m.fireIf(Ring.S9, Go.RESET)).isTrue()).doesNotThrowAnyException();
    assertThat(m.state()).isEqualTo(Ring.S0);
    assertThat(n.get()).isEqualTo(10);
    assertThat(threads).containsOnly(Thread.currentThread());
  }

  // Whatever a listener throws, the transition stands ("it cannot undo a transition").
  @Test
  void aListenerThatThrowsAnErrorCannotUndoATransition() {
    AtomicInteger n = new AtomicInteger();
    StateMachine<Ring, Go> m = throwingListener(List.of(new AssertionError("y"),
        new StackOverflowError("z"), new OutOfMemoryError("pretend")), n, new ArrayList<>());
    for (int i = 1; i <= 9; i++) {
      try {
        m.fire(Go.NEXT);
      } catch (Error escaped) {
        // judged by the next test
      }
      assertThat(m.state()).isEqualTo(Ring.values()[i]);
    }
    assertThat(n.get()).isEqualTo(9);
  }

  // Same promise, Errors: "A listener that throws is logged and otherwise ignored"; DESIGN: every
  // user callback ... isolated from the engine, whatever Throwable it throws.
  @Test
  void aListenerThatThrowsAnErrorIsLoggedAndOtherwiseIgnored() {
    AtomicInteger n = new AtomicInteger();
    StateMachine<Ring, Go> m = throwingListener(List.of(new AssertionError("y"),
        new StackOverflowError("z")), n, new ArrayList<>());
    assertThatCode(() -> m.fire(Go.NEXT)).as("fire").doesNotThrowAnyException();
    assertThatCode(() -> m.fireIf(Ring.S1, Go.NEXT)).as("fireIf").doesNotThrowAnyException();
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> void sneaky(Throwable t) throws E {
    throw (E) t;
  }

  // A listener that fires re-entrantly: each nested fire is applied to the state the outer one
  // entered, and the listener is told every transition once.
  @Test
  void aListenerThatFiresReentrantlySeesEveryTransitionOnce() {
    List<Transition<Ring, Go>> told = new ArrayList<>();
    AtomicLong fires = new AtomicLong();
    java.util.concurrent.atomic.AtomicReference<StateMachine<Ring, Go>> self =
        new java.util.concurrent.atomic.AtomicReference<>();
    self.set(RING.newMachine("k", (key, t) -> {
      told.add(t);
      if (t.to() != Ring.S9 && t.to() != Ring.S0) {
        fires.incrementAndGet();
        self.get().fire(Go.NEXT);
      }
    }));
    assertThat(self.get().fire(Go.NEXT)).as("the outer fire returns the state it entered").isEqualTo(Ring.S1);
    assertThat(self.get().state()).isEqualTo(Ring.S9);
    assertThat(told).extracting(Transition::from).containsExactly(
        Ring.S0, Ring.S1, Ring.S2, Ring.S3, Ring.S4, Ring.S5, Ring.S6, Ring.S7, Ring.S8);
    assertThat(fires.get()).isEqualTo(8);
  }

  // Terminal states: "no event is permitted there"; the exception names machine, key, state,
  // event; step "throws IllegalTransitionException naming key".
  @Test
  void terminalStatesRefuseEverythingAndRefusalsNameTheirMachine() {
    Lifecycle<Abc, Go> lc = Lifecycle.builder("door", Abc.class, Go.class).initial(Abc.A)
        .permit(Abc.A, Go.NEXT, Abc.B).permit(Abc.B, Go.NEXT, Abc.C).permit(Abc.B, Go.RESET, Abc.A)
        .terminal(Abc.C).build();
    StateMachine<Abc, Go> m = lc.newMachine("front-door-42");
    m.fire(Go.NEXT);
    m.fire(Go.NEXT);
    for (Go g : Go.values()) {
      assertThatThrownBy(() -> m.fire(g)).isInstanceOfSatisfying(IllegalTransitionException.class, x -> {
        assertThat(x.machine()).isEqualTo("door");
        assertThat(x.key()).isEqualTo("front-door-42");
        assertThat(x.state()).isEqualTo(Abc.C);
        assertThat(x.event()).isEqualTo(g);
        assertThat(x.permitted()).isEmpty();
        assertThat(x.getMessage()).contains("front-door-42").contains("C").contains(g.name());
      });
      assertThatThrownBy(() -> m.fireIf(Abc.C, g)).isInstanceOf(IllegalTransitionException.class);
    }
    assertThat(m.state()).isEqualTo(Abc.C);
    assertThat(lc.isTerminal(Abc.C)).isTrue();
    assertThat(lc.isTerminal(Abc.A)).isFalse();
    assertThatThrownBy(() -> lc.step("key-7", Abc.A, Go.RESET))
        .isInstanceOf(IllegalTransitionException.class).hasMessageContaining("key-7");
    assertThat(lc.step("k", Abc.B, Go.RESET)).isEqualTo(Abc.A);
    assertThatThrownBy(() -> lc.permitted(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> lc.newMachine(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> lc.newMachine("k", null)).isInstanceOf(NullPointerException.class);
    assertThat(lc.newMachine("k").key()).isEqualTo("k");
    assertThatThrownBy(() -> m.fire(null)).isInstanceOf(NullPointerException.class);
  }

  // toMermaid: "one line per transition in declaration order, each ending in a newline: the
  // initial arrow first, the terminal arrows last".
  @Test
  void mermaidListsEveryTransitionInDeclarationOrder() {
    Lifecycle<Abc, Go> lc = Lifecycle.builder("door", Abc.class, Go.class).initial(Abc.A)
        .permit(Abc.B, Go.RESET, Abc.A).permit(Abc.A, Go.NEXT, Abc.B).permit(Abc.B, Go.NEXT, Abc.C)
        .terminal(Abc.C).build();
    String mermaid = lc.toMermaid();
    assertThat(mermaid).endsWith("\n");
    List<String> arrows = mermaid.lines().filter(l -> l.contains("-->")).map(String::strip).toList();
    assertThat(arrows).hasSize(5);
    assertThat(arrows.get(0)).startsWith("[*]").endsWith("A");
    assertThat(arrows.get(1)).contains("B").contains("RESET");
    assertThat(arrows.get(2)).contains("NEXT");
    assertThat(arrows.get(4)).startsWith("C").endsWith("[*]");
  }
}
