package dev.statewright.harness.staging;

import dev.statewright.lease.Lease;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * S1–S6 as a randomised scenario over any {@link StagingUnderTest}: a bundle with a local module
 * of many files, two to four targets that stage it, lease it and read it in turn, leases closed
 * in a random order, the scope closed at a random point, and an observer thread that looks for a
 * half-copied tree under a final name while staging runs. Or the scope closes while targets are
 * still staging. Attacks along the way: an escaping link, twin trees a naive digest confuses, a
 * neighbour in another PID namespace opening the area, a link planted in a leased copy before it
 * is deleted, a leased copy made thousands of levels deep before it is verified and deleted
 * ({@link DeepCopy}). Or, instead of targets, a module or its parent swapped for a link out of the
 * bundle while it is staged ({@link SwapRace}). Each run follows from its seed (the races' timing
 * does not).
 */
public final class StagingProperty {
  private static final URI MODULE = URI.create("file://./modules/app");

  private final String name;
  private final Function<Path, StagingUnderTest> implementation;

  /**
   * The property for {@code implementation}, which opens a staging area at the path it is given.
   *
   * @param name the property's name, for reports
   * @param implementation opens the staging under test at a fresh root, once per run; what it
   *     returns is closed at the end of the run
   */
  public StagingProperty(String name, Function<Path, StagingUnderTest> implementation) {
    this.name = name;
    this.implementation = implementation;
  }

  /**
   * The property for the engine's own staging.
   *
   * @return the property named {@code staging} over {@link RealStaging}
   */
  public static StagingProperty staging() {
    return new StagingProperty("staging", root -> {
      try {
        return new RealStaging(root);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /**
   * The property's name.
   *
   * @return the name given at construction
   */
  public String name() {
    return name;
  }

  /**
   * One run; returns the violations seen (empty if it passed).
   *
   * @param seed the run's seed: the same seed replays the same scenario
   * @return the violations, each starting with the property it breaks ({@code "S3:"}, …); empty if
   *     the run passed
   * @throws Exception if the scenario itself failed (a temporary folder could not be made)
   */
  public List<String> run(long seed) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    Path tmp = Files.createTempDirectory("statewright-staging-property-");
    List<String> violations = new ArrayList<>();
    try {
      int files = 40 + random.nextInt(160);
      Path bundle = bundle(tmp.resolve("bundle"), files);
      Path root = tmp.resolve("staging");
      try (StagingUnderTest staging = implementation.apply(root)) {
        if (random.nextInt(4) == 0) {
          escapingLink(staging, bundle, tmp, violations);
        }
        if (random.nextInt(4) == 0) {
          ambiguousTwins(staging, bundle, violations);
        }
        int kind = random.nextInt(12);
        if (kind < 3) {
          closeWhileStaging(staging, bundle, random, violations);
        } else if (kind == 3) {
          SwapRace.run(staging, bundle, tmp, random, violations);
        } else {
          scenario(staging, bundle, root, tmp, files, random, violations);
        }
      } catch (Exception | AssertionError e) {
        violations.add("the implementation threw: " + e);
      }
      if (Files.exists(root) && !listing(root).isEmpty()) {
        violations.add("S2: left behind after the run: " + listing(root));
      }
    } finally {
      DeepCopy.removeScratch(tmp);
    }
    return violations;
  }

  private void scenario(StagingUnderTest staging, Path bundle, Path root, Path tmp, int files,
      SplittableRandom random, List<String> violations) throws Exception {
    int targets = 2 + random.nextInt(3);
    int closeScopeAfter = random.nextInt(targets + 1);
    List<Lease<Path>> open = new ArrayList<>();
    Map<Lease<Path>, Path> paths = new HashMap<>();
    Map<Lease<Path>, StagingUnderTest.Handle> leased = new HashMap<>();
    List<StagingUnderTest.Handle> handles = new ArrayList<>();
    boolean scopeClosed = false;
    for (int t = 0; t < targets; t++) {
      String target = "cluster-" + (char) ('a' + t);
      if (t == closeScopeAfter) {
        staging.closeScope();
        scopeClosed = true;
        break;
      }
      StagingUnderTest.Handle handle = stageWatched(staging, bundle, root, files, target, violations);
      if (handle == null) {
        return;
      }
      handles.add(handle);
      Lease<Path> lease = handle.acquire(target);
      checkContent(lease, files, target, violations);
      open.add(lease);
      paths.put(lease, lease.get());
      leased.put(lease, handle);
      if (t == 0 && random.nextInt(3) == 0) {
        neighbour(staging, open, violations);
      }
      while (!open.isEmpty() && random.nextBoolean()) {
        closeAndCheckOthers(open, open.remove(random.nextInt(open.size())), files, violations);
      }
    }
    if (!scopeClosed) {
      staging.closeScope();
    }
    if (!open.isEmpty() && random.nextInt(4) == 0) {
      linkSwapBeforeDelete(open, paths, tmp, violations);
      return;
    }
    if (!open.isEmpty() && random.nextInt(8) == 0) {
      DeepCopy.deepenBeforeRelease(open, paths, leased, tmp, violations);
      return;
    }
    if (!open.isEmpty() && random.nextInt(3) == 0) {
      sabotage(open, paths, open.get(random.nextInt(open.size())), violations);
    } else if (!handles.isEmpty() && !open.isEmpty() && random.nextInt(3) == 0) {
      corrupt(handles.get(handles.size() - 1), paths.get(open.get(0)), violations);
    }
    for (StagingUnderTest.Handle handle : handles) {
      try (Lease<Path> late = handle.acquire("late-target")) {
        violations.add("S1: " + late.holder() + " got a lease after the scope closed: " + late.get());
      } catch (RuntimeException expected) {
        // refused, as it must be
      }
    }
    while (!open.isEmpty()) {
      closeAndCheckOthers(open, open.remove(random.nextInt(open.size())), files, violations);
    }
    for (StagingUnderTest.Handle handle : handles) {
      if (handle.deletions() != 1) {
        violations.add("S2: staged content deleted " + handle.deletions() + " times, not once");
      }
    }
  }

  /**
   * A cleaner deletes a leased target's content behind its back: its next {@code get()} must
   * fail (S1), and the leases on that content are closed without further checks.
   */
  private static void sabotage(List<Lease<Path>> open, Map<Lease<Path>, Path> paths,
      Lease<Path> victim, List<String> violations) throws IOException {
    Path content = paths.get(victim);
    deleteTree(content);
    try {
      Path handedOut = victim.get();
      violations.add("S1: get() handed " + victim.holder() + " " + handedOut
          + " although its content was deleted");
    } catch (RuntimeException expected) {
      // refused, naming what vanished
    }
    for (Lease<Path> lease : List.copyOf(open)) {
      if (paths.get(lease).equals(content)) {
        open.remove(lease);
        lease.close();
      }
    }
  }

  /**
   * A target swaps a directory of its leased copy for a link to a directory outside the staging
   * root, then every lease closes: deleting the content must delete the link, never what it
   * points at (S5).
   */
  private static void linkSwapBeforeDelete(List<Lease<Path>> open, Map<Lease<Path>, Path> paths,
      Path tmp, List<String> violations) throws IOException {
    Path victim = Files.createDirectories(tmp.resolve("victim"));
    for (int i = 0; i < 3; i++) {
      Files.writeString(victim.resolve("precious-" + i), "keep\n");
    }
    Path swapped = paths.get(open.get(0)).resolve("templates/part-1");
    if (Files.isDirectory(swapped, LinkOption.NOFOLLOW_LINKS)) {
      deleteTree(swapped);
      Files.createSymbolicLink(swapped, victim);
    }
    for (Lease<Path> lease : List.copyOf(open)) {
      open.remove(lease);
      lease.close();
    }
    long left = countFiles(victim);
    if (left != 3) {
      violations.add("S5-delete: deleting staged content deleted " + (3 - left) + " files outside"
          + " the staging root, through a link a target put in its copy");
    }
  }

  /**
   * Two modules whose entries a naive encoding writes as the same bytes ({@code x/} and
   * {@code y/} against one directory named {@code "x\nd y"}) must get different digests (S4).
   */
  private static void ambiguousTwins(StagingUnderTest staging, Path bundle, List<String> violations)
      throws Exception {
    Files.createDirectories(bundle.resolve("modules/twin-a/x"));
    Files.createDirectories(bundle.resolve("modules/twin-a/y"));
    Files.createDirectories(bundle.resolve("modules/twin-b/x\nd y"));
    Path origin = bundle.resolve("bundle.cue");
    Optional<String> a = staging.digestOf(URI.create("file://./modules/twin-a"), origin);
    Optional<String> b = staging.digestOf(URI.create("file://./modules/twin-b"), origin);
    if (a.isPresent() && a.equals(b)) {
      violations.add("S4-digest: two different trees staged with one digest " + a.get()
          + ", so verify() would miss one swapped for the other");
    }
  }

  /**
   * A process in another PID namespace opens a staging area on the same root while leases are
   * open: it must not sweep this live scope (S6).
   */
  private static void neighbour(StagingUnderTest staging, List<Lease<Path>> open,
      List<String> violations) throws Exception {
    staging.neighbourOpens();
    for (Lease<Path> lease : open) {
      try {
        lease.get();
      } catch (RuntimeException e) {
        violations.add("S6: a neighbour in another PID namespace swept a live scope: "
            + lease.holder() + " lost its content: " + e.getMessage());
      }
    }
  }

  /**
   * The scope closes while two or three targets are staging: each stage is either refused
   * because the scope is closed or staged and released with the scope, never failed half-way,
   * and nothing is left behind (S2).
   */
  private static void closeWhileStaging(StagingUnderTest staging, Path bundle, SplittableRandom random,
      List<String> violations) throws InterruptedException {
    int stagers = 2 + random.nextInt(2);
    int spin = random.nextInt(50_000);
    List<String> seen = new ArrayList<>();
    List<StagingUnderTest.Handle> handles = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < stagers; i++) {
      String target = "racer-" + i;
      Thread thread = new Thread(() -> stageRacingClose(staging, bundle, target, handles, seen),
          "staging-" + target);
      threads.add(thread);
      thread.start();
    }
    for (int i = 0; i < spin; i++) {
      Thread.onSpinWait();
    }
    staging.closeScope();
    for (Thread thread : threads) {
      thread.join();
    }
    synchronized (seen) {
      violations.addAll(seen);
      for (StagingUnderTest.Handle handle : handles) {
        try (Lease<Path> late = handle.acquire("late-target")) {
          violations.add("S1: " + late.holder() + " got a lease after the scope closed");
        } catch (RuntimeException expected) {
          // released with the scope
        }
      }
    }
  }

  private static void stageRacingClose(StagingUnderTest staging, Path bundle, String target,
      List<StagingUnderTest.Handle> handles, List<String> seen) {
    try {
      StagingUnderTest.Handle handle = staging.stage(MODULE, bundle.resolve("bundle.cue"), target);
      synchronized (seen) {
        handles.add(handle);
      }
    } catch (IllegalStateException closed) {
      // refused: the scope closed first
    } catch (Exception | AssertionError e) {
      synchronized (seen) {
        seen.add("S2-close: " + target + "'s stage racing the scope's close failed: " + e);
      }
    }
  }

  /** A module with a symlink out of its tree must be refused, not copied (S5). */
  private static void escapingLink(StagingUnderTest staging, Path bundle, Path tmp,
      List<String> violations) throws IOException {
    Path secret = Files.writeString(tmp.resolve("outside-secret.txt"), "token: hunter2\n");
    Path evil = Files.createDirectories(bundle.resolve("modules/evil"));
    Files.writeString(evil.resolve("module.cue"), "module: \"evil\"\n");
    Files.createSymbolicLink(evil.resolve("creds.txt"), evil.relativize(secret));
    try {
      staging.stage(URI.create("file://./modules/evil"), bundle.resolve("bundle.cue"), "attacker");
      violations.add("S5: staged a module whose symlink creds.txt points out of its tree");
    } catch (Exception refused) {
      // refused, as it must be
    }
  }

  /** Someone edits staged content under a lease: {@code verify()} must notice (S4). */
  private static void corrupt(StagingUnderTest.Handle handle, Path content, List<String> violations)
      throws IOException {
    Path victim = content.resolve("module.cue");
    if (!Files.exists(victim)) {
      return;
    }
    String original = Files.readString(victim);
    Files.writeString(victim, "module: \"evil\"\n");
    try {
      handle.verify();
      violations.add("S4: verify() did not notice " + victim + " was changed after staging");
    } catch (RuntimeException expected) {
      // noticed
    } finally {
      Files.writeString(victim, original);
    }
  }

  private StagingUnderTest.Handle stageWatched(StagingUnderTest staging, Path bundle, Path root,
      int files, String target, List<String> violations) throws InterruptedException {
    AtomicBoolean staging0 = new AtomicBoolean(true);
    List<String> seen = new ArrayList<>();
    Thread observer = new Thread(() -> observe(root, files, staging0, seen), "staging-observer");
    observer.start();
    try {
      return staging.stage(MODULE, bundle.resolve("bundle.cue"), target);
    } catch (Exception e) {
      violations.add("S3: " + target + " could not stage " + MODULE + ": " + e.getMessage());
      return null;
    } finally {
      staging0.set(false);
      observer.join();
      synchronized (seen) {
        violations.addAll(seen);
      }
    }
  }

  /** Looks for a tree under a final name that lacks files: half a copy in view (S4). */
  private static void observe(Path root, int files, AtomicBoolean staging, List<String> seen) {
    while (staging.get()) {
      try (Stream<Path> all = Files.walk(root)) {
        for (Path marker : all.filter(p -> p.getFileName().toString().equals("module.cue")).toList()) {
          Path dir = marker.getParent();
          if (!dir.toString().contains("partial") && countFiles(dir) < files) {
            synchronized (seen) {
              seen.add("S4: half a tree visible under a final name: " + dir);
            }
            return;
          }
        }
      } catch (IOException | RuntimeException racing) {
        // the tree changed under the walk: look again
      }
    }
  }

  private static void checkContent(Lease<Path> lease, int files, String target, List<String> violations) {
    try {
      Path path = lease.get();
      if (countFiles(path) != files || !Files.readString(path.resolve("module.cue")).contains("app")) {
        violations.add("S3: " + target + " found the wrong content at " + path);
      }
    } catch (IOException | RuntimeException e) {
      violations.add("S3: " + target + " could not read its module: " + e);
    }
  }

  private static void closeAndCheckOthers(List<Lease<Path>> open, Lease<Path> closing, int files,
      List<String> violations) {
    closing.close();
    for (Lease<Path> other : open) {
      try {
        Path path = other.get();
        if (countFiles(path) != files) {
          violations.add("S2: " + other.holder() + "'s content changed when " + closing.holder()
              + " closed its lease");
        }
      } catch (IOException | RuntimeException e) {
        violations.add("S2: " + other.holder() + " lost its content when " + closing.holder()
            + " closed its lease: " + e.getMessage());
      }
    }
  }

  private static Path bundle(Path dir, int files) throws IOException {
    Path module = Files.createDirectories(dir.resolve("modules/app"));
    Files.writeString(module.resolve("module.cue"), "module: \"app\"\n");
    for (int i = 1; i < files; i++) {
      Path file = module.resolve("templates/part-" + (i % 7)).resolve("file-" + i + ".yaml");
      Files.createDirectories(file.getParent());
      Files.writeString(file, "kind: ConfigMap\nindex: " + i + "\n" + "x".repeat(i % 50) + "\n");
    }
    Files.writeString(dir.resolve("bundle.cue"), "bundle: { app: { module: \"" + MODULE + "\" } }\n");
    return dir;
  }

  static long countFiles(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      return all.filter(Files::isRegularFile).count();
    } catch (NoSuchFileException gone) {
      return -1;
    }
  }

  static List<String> listing(Path root) throws IOException {
    try (Stream<Path> all = Files.list(root)) {
      return all.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /**
   * Deletes {@code root} and everything below it, if it exists.
   *
   * @param root the tree to delete; nothing happens if it does not exist
   * @throws IOException if a file or folder could not be deleted
   */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
