package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.lease.Lease;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 6 of the hostile-filesystem issue: two containers of one pod share the staging root but
 * not a PID namespace. A second JVM in its own PID namespace ({@code unshare --pid --fork
 * --mount-proc}, as a container sees /proc) must not sweep our live scope, and ours must sweep
 * its scope once it is SIGKILLed. Where unshare cannot run, the tests are skipped, loudly; under
 * {@code CI=true} on a machine that has unshare, never.
 */
class StagingPidNamespaceAttackTest {
  private static final Path UNSHARE = Path.of("/usr/bin/unshare");

  @TempDir
  Path tmp;

  @BeforeEach
  void requireUnshare() throws Exception {
    boolean usable = Files.isExecutable(UNSHARE) && probe();
    if (!usable) {
      boolean ci = "true".equals(System.getenv("CI"));
      String why = "StagingPidNamespaceAttackTest SKIPPED: '" + UNSHARE
          + " --pid --fork --mount-proc true' cannot run here (no unshare, or no privilege)";
      System.err.println("*** " + why + " ***");
      if (ci && Files.isExecutable(UNSHARE)) {
        throw new AssertionError(why + ", and CI=true on a machine that has unshare: fix the runner");
      }
      Assumptions.abort(why);
    }
  }

  @Test
  void aJvmInAnotherPidNamespaceDoesNotSweepOurLiveScope() throws Exception {
    Path bundle = Bundles.bundleWithRedisModule(tmp.resolve("bundle"));
    Path root = tmp.resolve("staging");
    try (StagingArea area = StagingArea.open(root); StagingScope run = area.newScope("live")) {
      Staged module = run.stageDirectory(URI.create("file://./modules/redis"), bundle);

      StagingArea.open(root).close(); // this JVM never opens its own owner files: that drops locks
      List<String> out = runToEnd(namespaced("sweep", root));

      assertThat(out).anySatisfy(line -> assertThat(line).startsWith("opened as pid"));
      try (Lease<Path> lease = module.acquire("cluster-a")) {
        assertThat(lease.get().resolve("module.cue")).as("our live scope survived").exists();
      }
    }
  }

  @Test
  void aKilledJvmInAnotherPidNamespaceIsSwept() throws Exception {
    Path root = tmp.resolve("staging");
    Process child = namespaced("hold", root).start();
    Path held;
    try {
      BufferedReader stdout = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String line = stdout.readLine();
      List<String> before = new ArrayList<>();
      while (line != null && !line.startsWith("holding ")) { // "opened as pid 1", or a JVM warning
        before.add(line);
        line = stdout.readLine();
      }
      assertThat(line).as("the namespaced child holds a scope; it said before " + before)
          .startsWith("holding ");
      held = Path.of(line.substring("holding ".length()));
      StagingArea.open(root).close();
      assertThat(held).as("not swept while its owner lives").exists();
    } finally {
      kill(child);
    }
    StagingArea.open(root).close();
    assertThat(held).as("swept once its owner died").doesNotExist();
  }

  /** SIGKILLs unshare and the JVM under it, and waits until both are gone (the lock with them). */
  private static void kill(Process child) throws InterruptedException {
    List<ProcessHandle> family = child.descendants().toList();
    child.destroyForcibly();
    family.forEach(ProcessHandle::destroyForcibly);
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    family.forEach(p -> p.onExit().join());
  }

  private static ProcessBuilder namespaced(String mode, Path root) {
    return new ProcessBuilder(UNSHARE.toString(), "--pid", "--fork", "--mount-proc", "--kill-child",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), NamespacedStager.class.getName(), mode,
        root.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT);
  }

  private static List<String> runToEnd(ProcessBuilder builder) throws Exception {
    Process process = builder.start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      process.getOutputStream().close();
      for (String line; (line = out.readLine()) != null; ) {
        lines.add(line);
      }
    }
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("namespaced JVM said " + lines).isZero();
    return lines;
  }

  private static boolean probe() throws IOException, InterruptedException {
    Process probe = new ProcessBuilder(UNSHARE.toString(), "--pid", "--fork", "--mount-proc", "true")
        .redirectErrorStream(true).start();
    probe.getInputStream().readAllBytes();
    return probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0;
  }
}
