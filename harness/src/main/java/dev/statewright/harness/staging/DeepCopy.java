package dev.statewright.harness.staging;

import dev.statewright.lease.Lease;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A target makes its leased copy thousands of directories deep, by renames so that no path is
 * long, before the copy is verified and released: {@code verify()} must report a change, not
 * throw an {@link Error} (S4), and releasing must still delete everything (S2). Both run on a
 * target's own thread with a {@value #STACK}-byte stack, as a pool thread might have, so a walk
 * that recurses once per level overflows at a depth the property can afford to build.
 */
final class DeepCopy {
  /** Levels of the tree a target builds: far more than a recursive walk has stack for. */
  static final int DEPTH = 2_000;
  /** The stack of the thread that verifies and closes the last lease. */
  static final long STACK = 192 * 1024;
  /** How long verifying and releasing may take; well under a second when they work. */
  private static final long BOUND_MILLIS = 20_000;
  /** Levels made by one path when building the chain: 2 bytes each, far below PATH_MAX. */
  private static final int LINK = 500;
  private static final String D = "d/";

  private DeepCopy() { }

  static void deepenBeforeRelease(List<Lease<Path>> open, Map<Lease<Path>, Path> paths,
      Map<Lease<Path>, StagingUnderTest.Handle> leased, Path tmp, List<String> violations)
      throws Exception {
    deepenBeforeRelease(open, paths, leased, tmp, violations, DEPTH, STACK);
  }

  static void deepenBeforeRelease(List<Lease<Path>> open, Map<Lease<Path>, Path> paths,
      Map<Lease<Path>, StagingUnderTest.Handle> leased, Path tmp, List<String> violations,
      int depth, long stack) throws Exception {
    Lease<Path> deepener = open.get(0);
    Path copy = paths.get(deepener);
    chain(tmp, copy.resolve("deep"), depth);
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    AtomicReference<String> doing = new AtomicReference<>("S4: verify()");
    Thread target = new Thread(null, () -> verifyAndRelease(List.copyOf(open),
        leased.get(deepener), doing, seen, depth), "deepening-target", stack);
    target.setDaemon(true); // left behind, not waited for, if it never returns
    target.start();
    target.join(BOUND_MILLIS);
    open.clear();
    if (target.isAlive()) {
      violations.add(doing.get() + " on a copy a target made " + depth + " levels deep did not"
          + " return within " + BOUND_MILLIS + " ms");
      return;
    }
    violations.addAll(seen);
    if (Files.exists(copy, LinkOption.NOFOLLOW_LINKS)) {
      violations.add("S2-deep: a copy a target made " + depth + " levels deep was left at " + copy
          + " after its last lease closed");
    }
  }

  private static void verifyAndRelease(List<Lease<Path>> leases, StagingUnderTest.Handle handle,
      AtomicReference<String> doing, List<String> seen, int depth) {
    try {
      handle.verify();
    } catch (RuntimeException changed) {
      // reported as it must be (or not at all: the corruption attack judges that)
    } catch (Error e) {
      seen.add("S4: verify() of a copy a target made " + depth + " levels deep threw " + e
          + " instead of saying the content changed");
    }
    for (Lease<Path> lease : leases) {
      doing.set("S2-deep: closing " + lease.holder() + "'s lease");
      try {
        lease.close();
      } catch (RuntimeException | Error e) {
        seen.add("S2-deep: closing " + lease.holder() + "'s lease on a copy a target made " + depth
            + " levels deep threw " + e);
      }
    }
  }

  /**
   * A chain of {@code depth} directories {@code d/d/…/leaf} at {@code at}, made in {@code tmp}:
   * links of up to {@value #LINK} levels made by one short path each, nested into each other by
   * renames, so that no path used is long.
   */
  static void chain(Path tmp, Path at, int depth) throws IOException {
    Path top = Files.createDirectory(tmp.resolve("chain-top"));
    Files.writeString(top.resolve("leaf"), "x\n");
    for (int made = 1; made < depth; ) {
      int levels = Math.min(LINK, depth - made);
      Path link = tmp.resolve("chain-link");
      Path bottom = Files.createDirectories(levels == 1 ? link : link.resolve(D.repeat(levels - 2) + "d"));
      Files.move(top, bottom.resolve("d"));
      Files.move(link, top);
      made += levels;
    }
    Files.move(top, at);
  }

  /**
   * Deletes the run's scratch folder, a tree too deep to walk by path included (left by an
   * implementation that failed to delete one): by {@code rm -rf}, which works relative to open
   * directories, when walking by path fails.
   */
  static void removeScratch(Path tmp) throws IOException, InterruptedException {
    try {
      StagingProperty.deleteTree(tmp);
    } catch (IOException | UncheckedIOException tooDeep) {
      int exit = new ProcessBuilder("rm", "-rf", "--", tmp.toString()).inheritIO().start().waitFor();
      if (exit != 0 || Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("cannot remove the property's scratch folder " + tmp, tooDeep);
      }
    }
  }
}
