package dev.statewright.harness.staging;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The source swapped between the stager's check and its open (S5): while modules are staged, an
 * attacker with write access to the bundle flips a module directory (or, one level up, the
 * {@code modules} directory) between itself and a link to a look-alike outside the bundle whose
 * files say {@value #SECRET}. Each stage must be refused or copy the module's own files; a staged
 * file that says {@value #SECRET} means a link was followed out of the bundle after the check.
 */
final class SwapRace {
  static final String SECRET = "SECRET";
  /** Modules staged, each until one stage of it succeeds (a scope stages a source once). */
  private static final int MODULES = 12;
  /** Stages of one module tried while it is flipped, refusals included. */
  private static final int ATTEMPTS = 40;
  private static final int FILES = 4;

  private SwapRace() { }

  static void run(StagingUnderTest staging, Path bundle, Path tmp, SplittableRandom random,
      List<String> violations) throws Exception {
    boolean parent = random.nextBoolean();
    Path outside = Files.createTempDirectory("statewright-look-alike-"); // beyond the bundle's reach
    try {
      attack(staging, bundle, tmp, outside, parent, violations);
    } finally {
      StagingProperty.deleteTree(outside);
    }
  }

  private static void attack(StagingUnderTest staging, Path bundle, Path tmp, Path outside,
      boolean parent, List<String> violations) throws Exception {
    for (int m = 0; m < MODULES; m++) {
      fill(Files.createDirectories(bundle.resolve("modules/flip-" + m)), "ours");
      fill(Files.createDirectories(parent ? outside.resolve("flip-" + m) : outside.resolve("flip")),
          SECRET);
    }
    Path hold = Files.createDirectories(tmp.resolve("hold"));
    Files.createSymbolicLink(hold.resolve("link"), parent ? outside : outside.resolve("flip"));
    for (int m = 0; m < MODULES; m++) {
      Path flipped = bundle.resolve(parent ? "modules" : "modules/flip-" + m);
      String leak = race(staging, bundle, flipped, hold, m);
      if (leak != null) {
        violations.add("S5-swap: " + leak + " (" + (parent ? "the modules directory" : "the module")
            + " was swapped for a link to " + outside + " after it was checked)");
        return;
      }
    }
  }

  /** Stages flip-{@code m} while {@code flipped} flips; what leaked, or null. */
  private static String race(StagingUnderTest staging, Path bundle, Path flipped, Path hold, int m)
      throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    AtomicInteger flips = new AtomicInteger();
    Thread attacker = new Thread(() -> flip(flipped, hold, stop, flips, failed), "swap-attacker");
    attacker.start();
    try {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        StagingUnderTest.Handle handle;
        try {
          handle = staging.stage(URI.create("file://./modules/flip-" + m),
              bundle.resolve("bundle.cue"), "swap-" + m);
        } catch (Exception refusedOrVanished) {
          continue;
        }
        return leaked(handle, "swap-" + m);
      }
      return null;
    } finally {
      stop.set(true);
      attacker.join();
      if (failed.get() != null) {
        throw new IllegalStateException("the swap attacker failed after " + flips + " flips",
            failed.get());
      }
    }
  }

  private static String leaked(StagingUnderTest.Handle handle, String target) throws IOException {
    try (var lease = handle.acquire(target)) {
      List<String> secret = new ArrayList<>();
      try (Stream<Path> all = Files.walk(lease.get())) {
        for (Path file : all.filter(Files::isRegularFile).toList()) {
          if (Files.readString(file).contains(SECRET)) {
            secret.add(lease.get().relativize(file).toString());
          }
        }
      }
      return secret.isEmpty() ? null : target + " staged " + secret + " from outside the bundle";
    }
  }

  /** Flips {@code flipped} to the link and back, by atomic renames, until told to stop (left real). */
  private static void flip(Path flipped, Path hold, AtomicBoolean stop, AtomicInteger flips,
      AtomicReference<Throwable> failed) {
    try {
      while (!stop.get()) {
        Files.move(flipped, hold.resolve("real"), StandardCopyOption.ATOMIC_MOVE);
        Files.move(hold.resolve("link"), flipped, StandardCopyOption.ATOMIC_MOVE);
        Files.move(flipped, hold.resolve("link"), StandardCopyOption.ATOMIC_MOVE);
        Files.move(hold.resolve("real"), flipped, StandardCopyOption.ATOMIC_MOVE);
        flips.incrementAndGet();
      }
    } catch (IOException | RuntimeException e) {
      failed.set(e);
    }
  }

  private static void fill(Path dir, String content) throws IOException {
    for (int i = 0; i < FILES; i++) {
      Files.writeString(dir.resolve("f" + i), content + "\n");
    }
  }
}
