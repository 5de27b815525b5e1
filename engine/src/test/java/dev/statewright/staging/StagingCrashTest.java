package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** S6: a process SIGKILLed mid-staging leaves only a partial tree, which the next open removes. */
class StagingCrashTest {
  @TempDir
  Path tmp;

  @Test
  void aChildKilledMidStagingLeavesNoFinalTreeAndTheNextOpenSweepsIt() throws Exception {
    Path root = tmp.resolve("staging");
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), CrashingStager.class.getName(), root.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    try {
      OutputStream stdin = child.getOutputStream();
      stdin.write("bundle: { half: ".repeat(4096).getBytes(StandardCharsets.UTF_8));
      stdin.flush();
      BufferedReader stdout = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String line = stdout.readLine();
      assertThat(line).as("the child announced it is staging").startsWith("staging ");
      Path scope = Path.of(line.substring("staging ".length()));

      child.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();

      assertThat(Bundles.listing(scope)).as("only a partial tree, never a final name")
          .containsExactly("owner", "partial-1", "partial-1/bundle.cue");
    } finally {
      child.destroyForcibly();
    }

    try (StagingArea next = StagingArea.open(root)) {
      assertThat(Bundles.listing(next.root())).as("the dead child's scope was swept").isEmpty();
    }
  }

  @Test
  void aChildThatExitsNormallyRemovesItsOpenScopeOnItsWayOut() throws Exception {
    Path root = tmp.resolve("staging");
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), CrashingStager.class.getName(), root.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    try {
      try (OutputStream stdin = child.getOutputStream()) {
        stdin.write("bundle: {}\n".getBytes(StandardCharsets.UTF_8));
      }
      BufferedReader stdout = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String staging = stdout.readLine();
      assertThat(staging).as("the child announced it is staging").startsWith("staging ");
      assertThat(stdout.readLine()).isEqualTo("finished");
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(child.exitValue()).isZero();
      assertThat(Path.of(staging.substring("staging ".length())))
          .as("its scope, never closed, was removed by the shutdown hook").doesNotExist();
    } finally {
      child.destroyForcibly();
    }
  }

  @Test
  void aLiveProcesssScopesAreNotSwept() throws Exception {
    Path root = tmp.resolve("staging");
    try (StagingArea first = StagingArea.open(root)) {
      StagingScope live = first.newScope("still running");
      try (StagingArea second = StagingArea.open(root)) {
        assertThat(live.directory()).exists();
        assertThat(second.root()).isEqualTo(first.root());
      }
    }
  }
}
