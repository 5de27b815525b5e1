package dev.statewright.event.attack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.event.DirectoryEventSource;
import dev.statewright.testing.Seeds;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks {@link DirectoryEventSource} from outside, through its public API and its javadoc: a
 * folder written, rewritten, emptied, replaced and refilled under it, hostile files and parsers.
 */
class DirectoryEventSourceAttackTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Duration RESCAN = Duration.ofMillis(30);

  @TempDir Path temp;
  private final PoolScheduler scheduler = new PoolScheduler(4);
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    scheduler.close();
  }

  private Path folder() throws IOException {
    return Files.createDirectories(temp.resolve("specs"));
  }

  private static String text(Path file, byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private DirectoryEventSource<String> source(Path dir, DirectoryEventSource.SpecParser<String> parser) {
    DirectoryEventSource<String> source = DirectoryEventSource.of(dir, ".properties", parser, RESCAN, scheduler);
    toClose.add(source);
    return source;
  }

  private static final AtomicLong STAGED = new AtomicLong();

  /**
   * Writes {@code content} as a whole: into a file beside the watched folder, then moved over
   * {@code file}, so nobody reads it half written (a truncating write shows empty bytes first).
   */
  private void write(Path file, String content) throws IOException {
    Path next = temp.resolve("staged-" + STAGED.incrementAndGet());
    Files.writeString(next, content);
    Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Rewrites {@code file} in place, truncating first: readers may see it half written. */
  private static void writeInPlace(Path file, String content) throws IOException {
    Files.writeString(file, content);
  }

  // "currentVersion(): Scans the folder now, on the scheduler, and completes with the version
  // after it: every file written before this call has been delivered by then."
  @Test
  void currentVersionReflectsEveryFileWrittenBeforeTheCall() throws Exception {
    SplittableRandom random = Seeds.random("currentVersionReflectsEveryFileWrittenBeforeTheCall");
    Path dir = folder();
    Recorder<String> sink = new Recorder<>();
    DirectoryEventSource<String> source = source(dir, DirectoryEventSourceAttackTest::text);
    source.start(sink);
    Map<String, String> disk = new HashMap<>();
    for (int round = 0; round < 40; round++) {
      for (int op = random.nextInt(1, 5); op > 0; op--) {
        String key = "k" + random.nextInt(5);
        if (random.nextInt(4) == 0) {
          Files.deleteIfExists(dir.resolve(key + ".properties"));
          disk.remove(key);
        } else {
          String content = key + "@" + round + "." + op + "#" + random.nextInt(1000);
          write(dir.resolve(key + ".properties"), content);
          disk.put(key, content);
        }
      }
      long version = source.currentVersion().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      Map<String, String> seen = sink.specs();
      assertThat(seen).as("round %d: the sink's view after currentVersion()=%d", round, version)
          .isEqualTo(new java.util.TreeMap<>(disk));
      long maxDelivered = sink.<Long>read(r -> r.view.values().stream()
          .mapToLong(v -> v.version()).max().orElse(Long.MIN_VALUE));
      assertThat(maxDelivered).as("round %d: a delivered version beyond currentVersion()", round)
          .isLessThanOrEqualTo(version);
    }
    assertThat(sink.violations()).isEmpty();
  }

  // EventSink.progress: "The source has delivered every event with a version at or below
  // {@code version}"; DirectoryEventSource: "after each scan the source reports progress at its
  // last version, since a scan delivers every change it found". And "Each change of a file's
  // bytes gets the next version of this source, so versions grow".
  @Test
  void progressNeverRunsAheadOfEventsWhileFilesChangeUnderTheWatcher() throws Exception {
    SplittableRandom random = Seeds.random("progressNeverRunsAheadOfEventsWhileFilesChangeUnderTheWatcher");
    Path dir = folder();
    Recorder<String> sink = new Recorder<>();
    DirectoryEventSource<String> source = source(dir, DirectoryEventSourceAttackTest::text);
    source.start(sink);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    int round = 0;
    while (System.nanoTime() < deadline) {
      String key = "k" + random.nextInt(4);
      Path file = dir.resolve(key + ".properties");
      if (random.nextInt(5) == 0) {
        Files.deleteIfExists(file);
      } else {
        write(file, key + "#" + round);
      }
      if (random.nextInt(20) == 0) {
        source.currentVersion().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      }
      round++;
    }
    source.currentVersion().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(sink.violations()).as("after %d changes", round).isEmpty();
  }

  // "A file that fails to parse is rejected: its key keeps its last good spec, and the source
  // carries on."
  @Test
  void aFileThatFailsToParseIsRejectedAndTheSourceCarriesOn() throws Exception {
    Path dir = folder();
    write(dir.resolve("a.properties"), "good-1");
    Recorder<String> sink = new Recorder<>();
    source(dir, (file, bytes) -> {
      String s = text(file, bytes);
      if (s.startsWith("BAD")) {
        throw new IllegalArgumentException("not a spec");
      }
      return s;
    }).start(sink);
    assertThat(sink.await(WAIT, r -> "good-1".equals(r.spec("a")))).isTrue();
    write(dir.resolve("a.properties"), "BAD");
    assertThat(sink.await(WAIT, r -> r.hasCall("reject", "a"))).as("reject a").isTrue();
    write(dir.resolve("b.properties"), "good-b");
    assertThat(sink.await(WAIT, r -> "good-b".equals(r.spec("b")))).as("b delivered").isTrue();
    assertThat(sink.spec("a")).as("a keeps its last good spec").isEqualTo("good-1");
    write(dir.resolve("a.properties"), "good-2");
    assertThat(sink.await(WAIT, r -> "good-2".equals(r.spec("a")))).as("a fixed").isTrue();
  }

  // DESIGN: "a file that fails to parse marks its entry's lastError and never crashes the source";
  // Liveness: "Nothing a ... source ... does — ... throw any Throwable — stalls another key".
  @Test
  void aParserThatThrowsAnErrorDoesNotStopTheSource() throws Exception {
    Path dir = folder();
    write(dir.resolve("boom.properties"), "ERROR");
    write(dir.resolve("so.properties"), "STACK");
    Recorder<String> sink = new Recorder<>();
    source(dir, (file, bytes) -> {
      String s = text(file, bytes);
      if (s.equals("ERROR")) {
        throw new AssertionError("parser bug");
      }
      if (s.equals("STACK")) {
        throw new StackOverflowError("deep");
      }
      return s;
    }).start(sink);
    write(dir.resolve("after.properties"), "fine");
    assertThat(sink.await(WAIT, r -> "fine".equals(r.spec("after"))))
        .as("a file written after the parser threw Errors is delivered").isTrue();
    write(dir.resolve("boom.properties"), "fixed");
    assertThat(sink.await(WAIT, r -> "fixed".equals(r.spec("boom")))).isTrue();
  }

  // Same promise, the Error thrown by the watcher's read of a file written after start.
  @Test
  void aParserErrorOnAFileWrittenAfterStartDoesNotStopTheWatcher() throws Exception {
    Path dir = folder();
    Recorder<String> sink = new Recorder<>();
    DirectoryEventSource<String> source = source(dir, (file, bytes) -> {
      String s = text(file, bytes);
      if (s.equals("ERROR")) {
        throw new AssertionError("parser bug");
      }
      return s;
    });
    source.start(sink);
    write(dir.resolve("boom.properties"), "ERROR");
    scanIgnoringFailure(source);
    write(dir.resolve("after.properties"), "fine");
    assertThat(sink.await(WAIT, r -> "fine".equals(r.spec("after"))))
        .as("a file written after the parser threw an Error is delivered").isTrue();
    write(dir.resolve("boom.properties"), "fixed");
    assertThat(sink.await(WAIT, r -> "fixed".equals(r.spec("boom")))).isTrue();
  }

  // SpecParser: "@return the spec; must not be null"; EventSink.upsert: "spec its new spec,
  // never null". A parser that breaks its side must not make the source break the sink's.
  @Test
  void aParserThatReturnsNullNeverDeliversANullSpec() throws Exception {
    Path dir = folder();
    write(dir.resolve("n.properties"), "NULL");
    Recorder<String> sink = new Recorder<>();
    source(dir, (file, bytes) -> {
      String s = text(file, bytes);
      return s.equals("NULL") ? null : s;
    }).start(sink);
    write(dir.resolve("after.properties"), "fine");
    assertThat(sink.await(WAIT, r -> "fine".equals(r.spec("after")))).isTrue();
    assertThat(sink.violations()).isEmpty();
    assertThat(sink.anyResyncHolds("n")).as("n in a resync").isFalse();
  }

  // "A folder that vanishes is logged and its keys are kept until it comes back."
  @Test
  void aFolderThatVanishesKeepsItsKeysAndIsWatchedAgainWhenItComesBack() throws Exception {
    Path dir = folder();
    write(dir.resolve("a.properties"), "a1");
    write(dir.resolve("b.properties"), "b1");
    Recorder<String> sink = new Recorder<>();
    DirectoryEventSource<String> source = source(dir, DirectoryEventSourceAttackTest::text);
    source.start(sink);
    assertThat(sink.await(WAIT, r -> "a1".equals(r.spec("a")) && "b1".equals(r.spec("b")))).isTrue();
    Files.move(dir, temp.resolve("gone"), java.nio.file.StandardCopyOption.ATOMIC_MOVE); // vanishes whole
    scanIgnoringFailure(source);
    scanIgnoringFailure(source);
    assertThat(sink.spec("a")).as("a kept while the folder is gone").isEqualTo("a1");
    assertThat(sink.spec("b")).as("b kept while the folder is gone").isEqualTo("b1");
    Files.createDirectories(dir);
    write(dir.resolve("a.properties"), "a2");
    write(dir.resolve("c.properties"), "c1");
    assertThat(sink.await(WAIT, r -> "a2".equals(r.spec("a")) && "c1".equals(r.spec("c"))
        && r.spec("b") == null)).as("the folder back: a2, c1, b gone; view %s", sink.specs())
        .isTrue();
    write(dir.resolve("d.properties"), "d1");
    assertThat(sink.await(WAIT, r -> "d1".equals(r.spec("d"))))
        .as("a file written after the folder came back is delivered").isTrue();
  }

  // Same promise, the folder replaced by a regular file of the same name, then by a folder again.
  @Test
  void aFolderReplacedByAFileKeepsItsKeysAndRecovers() throws Exception {
    Path dir = folder();
    write(dir.resolve("a.properties"), "a1");
    Recorder<String> sink = new Recorder<>();
    DirectoryEventSource<String> source = source(dir, DirectoryEventSourceAttackTest::text);
    source.start(sink);
    assertThat(sink.await(WAIT, r -> "a1".equals(r.spec("a")))).isTrue();
    Files.move(dir, temp.resolve("gone"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    write(dir, "I am a file now");
    scanIgnoringFailure(source);
    scanIgnoringFailure(source);
    assertThat(sink.spec("a")).isEqualTo("a1");
    assertThat(sink.hasCall("delete", "a")).isFalse();
    Files.delete(dir);
    Files.createDirectories(dir);
    write(dir.resolve("e.properties"), "e1");
    assertThat(sink.await(WAIT, r -> "e1".equals(r.spec("e")) && r.spec("a") == null))
        .as("view %s", sink.specs()).isTrue();
  }

  private static void scanIgnoringFailure(DirectoryEventSource<String> source) throws Exception {
    try {
      source.currentVersion().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException expected) {
      // a scan of a missing folder may fail; what matters is what the sink was told
    }
  }

  // DESIGN liveness: nothing a source does stalls another key; "a file that fails to parse
  // ... never crashes the source". A FIFO named like a spec file is a file nobody can read whole.
  @Test
  void aFifoNamedLikeASpecFileDoesNotStallTheOtherFiles() throws Exception {
    Path dir = folder();
    Path fifo = dir.resolve("pipe.properties");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();
    Recorder<String> sink = new Recorder<>();
    try {
      source(dir, DirectoryEventSourceAttackTest::text).start(sink);
      write(dir.resolve("after.properties"), "fine");
      assertThat(sink.await(WAIT, r -> "fine".equals(r.spec("after"))))
          .as("a spec file beside a FIFO is delivered; calls %s", sink.callsCopy())
          .isTrue();
    } finally {
      unblock(fifo);
    }
  }

  /** Opens the FIFO for writing (non-blocking), so a reader stuck on its open sees end of file. */
  private static void unblock(Path fifo) {
    for (int i = 0; i < 3; i++) {
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try (OutputStream out = Files.newOutputStream(fifo)) {
          out.flush();
        } catch (IOException ignored) {
          // nobody reads: fine
        }
      });
      try {
        writer.get(200, TimeUnit.MILLISECONDS);
      } catch (TimeoutException | InterruptedException | ExecutionException e) {
        writer.cancel(true);
        return;
      }
    }
  }

  // "one spec file per key ... the key is the file name without [the suffix]"; a file that cannot
  // be read as a spec never crashes the source.
  @Test
  void oddNamesLinksAndDirectoriesNeverStopTheSource() throws Exception {
    Path dir = folder();
    Path outside = Files.createDirectories(temp.resolve("outside"));
    write(outside.resolve("secret.txt"), "outside");
    write(dir.resolve("with space.properties"), "space");
    write(dir.resolve("ünï cödé.properties"), "unicode");
    write(dir.resolve("new\nline.properties"), "newline");
    write(dir.resolve("x.properties.swp"), "swap");
    Files.createDirectories(dir.resolve("sub.properties"));
    Files.createSymbolicLink(dir.resolve("loop.properties"), dir.resolve("loop.properties"));
    Files.createSymbolicLink(dir.resolve("dangling.properties"), dir.resolve("nowhere"));
    Files.createSymbolicLink(dir.resolve("updir.properties"), outside);
    Recorder<String> sink = new Recorder<>();
    source(dir, DirectoryEventSourceAttackTest::text).start(sink);
    write(dir.resolve("after.properties"), "fine");
    assertThat(sink.await(WAIT, r -> "fine".equals(r.spec("after")) && "space".equals(r.spec("with space"))
        && "unicode".equals(r.spec("ünï cödé")) && "newline".equals(r.spec("new\nline"))))
        .as("view %s", sink.specs()).isTrue();
    assertThat(sink.specs().keySet()).doesNotContain("x", "x.properties", "x.properties.swp");
    Files.delete(dir.resolve("loop.properties"));
    write(dir.resolve("later.properties"), "later");
    assertThat(sink.await(WAIT, r -> "later".equals(r.spec("later")))).isTrue();
  }

  // SpecParser: "bytes the file's whole content, as read for this change".
  @Test
  void aLargeFileReachesTheParserWhole() throws Exception {
    Path dir = folder();
    byte[] big = new byte[8 << 20];
    java.util.Arrays.fill(big, (byte) 'x');
    big[big.length - 1] = '!';
    Files.write(dir.resolve("big.properties"), big);
    Recorder<String> sink = new Recorder<>();
    source(dir, (file, bytes) -> bytes.length + ":" + (char) bytes[bytes.length - 1]).start(sink);
    assertThat(sink.await(WAIT, r -> (big.length + ":!").equals(r.spec("big")))).isTrue();
  }

  // "Each change of a file's bytes gets the next version"; the last write wins once the writer
  // stops: the sink ends on the file's final content, whatever was read half-written meanwhile.
  @Test
  void aFileRewrittenWhileReadEndsOnItsLastContent() throws Exception {
    SplittableRandom random = Seeds.random("aFileRewrittenWhileReadEndsOnItsLastContent");
    Path dir = folder();
    Path file = dir.resolve("hot.properties");
    Recorder<String> sink = new Recorder<>();
    DirectoryEventSource<String> source = source(dir, (f, bytes) -> {
      String s = text(f, bytes);
      if (!s.startsWith("<") || !s.endsWith(">")) {
        throw new IllegalArgumentException("torn read of length " + s.length());
      }
      return s;
    });
    source.start(sink);
    String last = null;
    for (int i = 0; i < 300; i++) {
      last = "<" + i + ":" + "y".repeat(random.nextInt(1, 20_000)) + ">";
      writeInPlace(file, last);
    }
    String expected = last;
    source.currentVersion().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(sink.await(WAIT, r -> expected.equals(r.spec("hot"))))
        .as("last content delivered; holds %s", String.valueOf(sink.spec("hot")).length()).isTrue();
    assertThat(sink.violations()).isEmpty();
  }

  // EventSource: "close: Stops delivering; idempotent, throws nothing checked". Closes race each
  // other and a close from inside the sink; after close returns no delivery begins.
  @Test
  void closeIsIdempotentUnderRacesAndNothingIsDeliveredAfterItReturns() throws Exception {
    Path dir = folder();
    write(dir.resolve("a.properties"), "a1");
    CountDownLatch innerClosed = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicReference<DirectoryEventSource<String>> holder =
        new java.util.concurrent.atomic.AtomicReference<>();
    Recorder<String> sink = new Recorder<>() {
      @Override
      public void upsert(String key, String spec, long version) {
        super.upsert(key, spec, version);
        if (key.equals("trigger") && first.compareAndSet(true, false)) {
          holder.get().close();
          holder.get().close();
          innerClosed.countDown();
        }
      }
    };
    holder.set(source(dir, DirectoryEventSourceAttackTest::text));
    holder.get().start(sink);
    assertThat(sink.await(WAIT, r -> "a1".equals(r.spec("a")))).isTrue();
    write(dir.resolve("trigger.properties"), "t");
    assertThat(innerClosed.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("close from inside the sink returned").isTrue();
    dev.statewright.testing.Workers.run(4, i -> holder.get().close());
    long closedAt = Recorder.CLOCK.incrementAndGet();
    // a witness watching the same folder proves the closed source had time to see later writes
    Recorder<String> witness = new Recorder<>();
    source(dir, DirectoryEventSourceAttackTest::text).start(witness);
    for (int i = 0; i < 5; i++) {
      write(dir.resolve("late" + i + ".properties"), "late" + i);
    }
    write(dir.resolve("a.properties"), "a2");
    assertThat(witness.await(WAIT, r -> "a2".equals(r.spec("a")) && "late4".equals(r.spec("late4")))).isTrue();
    long scans = witness.count("progress");
    assertThat(witness.await(WAIT, r -> r.count("progress") >= scans + 5)).isTrue();
    assertThat(sink.callsAfterTick(closedAt))
        .as("sink calls after close returned").isEmpty();
  }
  // "Other files in the folder (a token a spec refers to, say) are dependencies: a change to one
  // is delivered as dependencyChanged with the file's name."
  @Test
  void aDependencyFileChangeIsDeliveredByItsBareName() throws Exception {
    Path dir = folder();
    write(dir.resolve("token.txt"), "t1");
    Recorder<String> sink = new Recorder<>();
    DirectoryEventSource<String> source = source(dir, DirectoryEventSourceAttackTest::text);
    source.start(sink);
    source.currentVersion().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    long before = sink.count("dependency");
    write(dir.resolve("token.txt"), "t2");
    assertThat(sink.await(WAIT, r -> r.count("dependency") > before && r.hasCall("dependency", "token.txt")))
        .as("calls %s", sink.callsCopy()).isTrue();
    assertThat(sink.specs()).doesNotContainKey("token.txt").doesNotContainKey("token");
  }

  // "Each change of a file's bytes gets the next version": a rewrite with the same bytes is no
  // change, so no new upsert.
  @Test
  void aFileRewrittenWithTheSameBytesIsNoChange() throws Exception {
    Path dir = folder();
    write(dir.resolve("a.properties"), "same");
    Recorder<String> sink = new Recorder<>();
    DirectoryEventSource<String> source = source(dir, DirectoryEventSourceAttackTest::text);
    source.start(sink);
    source.currentVersion().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    long version = sink.<Long>read(r -> r.view.get("a").version());
    for (int i = 0; i < 5; i++) { // replaced whole (a truncating write would show empty bytes)
      Path next = temp.resolve("next-" + i);
      write(next, "same");
      Files.move(next, dir.resolve("a.properties"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    write(dir.resolve("b.properties"), "marker");
    assertThat(sink.await(WAIT, r -> "marker".equals(r.spec("b")))).isTrue();
    source.currentVersion().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(sink.<Long>read(r -> r.view.get("a").version())).isEqualTo(version);
    assertThat(sink.callsCopy().stream().filter(c -> c.kind().equals("upsert") && "a".equals(c.key())).count())
        .isLessThanOrEqualTo(1);
  }

  // EventSource.close: "idempotent"; a consistent read of a closed source must end, one way or
  // the other, rather than hang its reader.
  @Test
  void currentVersionOfAClosedSourceEnds() throws Exception {
    Path dir = folder();
    write(dir.resolve("a.properties"), "a");
    DirectoryEventSource<String> source = source(dir, DirectoryEventSourceAttackTest::text);
    source.start(new Recorder<>());
    source.close();
    CompletableFuture<Long> read = source.currentVersion();
    try {
      read.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException failedIsFine) {
      // a closed source may refuse
    }
    assertThat(read).isDone();
  }

  // "start ... Scans the folder (delivering a resync)": a thousand files at start all arrive.
  @Test
  void aThousandFilesAtStartAllArrive() throws Exception {
    Path dir = folder();
    for (int i = 0; i < 1000; i++) {
      write(dir.resolve("k" + i + ".properties"), "v" + i);
    }
    Recorder<String> sink = new Recorder<>();
    DirectoryEventSource<String> source = source(dir, DirectoryEventSourceAttackTest::text);
    source.start(sink);
    source.currentVersion().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(sink.specs()).hasSize(1000).containsEntry("k999", "v999");
  }

  // EventSink: "a sink never throws back into its source" — a sink that breaks that (a user's
  // sink, not a cache) must still not stop the source for good.
  @Test
  void aSinkThatThrowsDoesNotStopTheSourceForGood() throws Exception {
    Path dir = folder();
    AtomicBoolean thrown = new AtomicBoolean();
    Recorder<String> sink = new Recorder<>() {
      @Override
      public void upsert(String key, String spec, long version) {
        super.upsert(key, spec, version);
        if (key.equals("bomb") && thrown.compareAndSet(false, true)) {
          throw new IllegalStateException("sink bug");
        }
      }
    };
    source(dir, DirectoryEventSourceAttackTest::text).start(sink);
    write(dir.resolve("bomb.properties"), "b");
    assertThat(sink.await(WAIT, r -> thrown.get())).isTrue();
    write(dir.resolve("after.properties"), "fine");
    assertThat(sink.await(WAIT, r -> "fine".equals(r.spec("after")))).isTrue();
  }
  // README, consistency across replicas: "acquireConsistent(key) asks the source for the store's
  // current version (... directory: a scan now), then reads as of it: the answer reflects every
  // write that completed before the call". Seeded: a file rewritten (or deleted) and read at once.
  @Test
  void aConsistentReadThroughACacheReflectsTheFileWrittenJustBefore() throws Exception {
    SplittableRandom random = Seeds.random("aConsistentReadThroughACacheReflectsTheFileWrittenJustBefore");
    Path dir = folder();
    write(dir.resolve("k.properties"), "v0");
    DirectoryEventSource<String> source = source(dir, DirectoryEventSourceAttackTest::text);
    try (dev.statewright.cache.ClientCache<String, String, String> cache =
        dev.statewright.cache.ClientCache.<String, String, String>builder((key, spec) -> key + "=" + spec)
            .scheduler(scheduler).acquireTimeout(WAIT).source(source).build()) {
      boolean present = true;
      for (int round = 1; round <= 25; round++) {
        if (random.nextInt(6) == 0 && present) {
          Files.delete(dir.resolve("k.properties"));
          present = false;
        } else {
          write(dir.resolve("k.properties"), "v" + round);
          present = true;
        }
        CompletableFuture<dev.statewright.cache.ClientLease<String>> read = cache.acquireConsistent("k");
        if (present) {
          try (dev.statewright.cache.ClientLease<String> lease = read.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            assertThat(lease.get()).as("round %d", round).isEqualTo("k=v" + round);
          }
        } else {
          int r = round;
          assertThatThrownBy(() -> read.get(WAIT.toSeconds(), TimeUnit.SECONDS)).as("round %d: deleted", r)
              .hasCauseInstanceOf(java.util.NoSuchElementException.class);
        }
      }
    }
  }
}
