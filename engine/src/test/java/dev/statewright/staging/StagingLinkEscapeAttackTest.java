package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 4 of the hostile-filesystem issue: links that escape through other links. The kernel
 * follows {@code l} before applying {@code ..}, so {@code x -> l/../secret} with {@code l -> .}
 * is the directory above the module, although {@code l/../secret} normalises as text to
 * {@code secret}. Such links are refused (S5); links that really stay inside are kept as links.
 */
class StagingLinkEscapeAttackTest {
  private static final URI MODULE = URI.create("file://./modules/m");

  @TempDir
  Path tmp;
  private Path origin;
  private Path module;
  private StagingArea area;

  @BeforeEach
  void module() throws IOException {
    Path bundle = Files.createDirectories(tmp.resolve("project"));
    module = Files.createDirectories(bundle.resolve("modules/m/sub"));
    module = module.getParent();
    Files.writeString(module.resolve("inside.txt"), "ours\n");
    Files.writeString(module.resolve("../secret"), "SECRET\n");
    origin = Files.writeString(bundle.resolve("bundle.cue"), "bundle: {}\n");
    area = StagingArea.open(tmp.resolve("staging"));
  }

  @AfterEach
  void close() {
    area.close();
  }

  private void assertRefused(String why) {
    try (StagingScope scope = area.newScope("attack")) {
      assertThatThrownBy(() -> scope.stageDirectory(MODULE, origin))
          .isInstanceOf(UnsafeSourceException.class).hasMessageContaining(why);
    }
    area.close();
  }

  @Test
  void dotDotAfterALinkToDotLeavesTheTree() throws IOException {
    Files.createSymbolicLink(module.resolve("l"), Path.of("."));
    Files.createSymbolicLink(module.resolve("x"), Path.of("l/../secret"));
    assertRefused("symlink x -> l/../secret points out of the source tree");
  }

  @Test
  void aChainOfLinksThatClimbsOutIsRefused() throws IOException {
    Files.createSymbolicLink(module.resolve("sub/up"), Path.of(".."));
    Files.createSymbolicLink(module.resolve("a"), Path.of("b"));
    Files.createSymbolicLink(module.resolve("b"), Path.of("sub/up/sub/up/../secret"));
    assertRefused("points out of the source tree");
  }

  @Test
  void aLinkInASubdirectoryThroughALinkToAParent() throws IOException {
    Files.createSymbolicLink(module.resolve("sub/here"), Path.of("."));
    Files.createSymbolicLink(module.resolve("sub/y"), Path.of("here/../../secret"));
    assertRefused("symlink sub/y -> here/../../secret points out of the source tree");
  }

  @Test
  void aLoopOfLinksIsRefused() throws IOException {
    Files.createSymbolicLink(module.resolve("p"), Path.of("q"));
    Files.createSymbolicLink(module.resolve("q"), Path.of("p"));
    assertRefused("follows more than " + LinkResolution.MAX_LINKS + " links");
  }

  @Test
  void aLinkToAnAbsoluteLinkIsRefused() throws IOException {
    Files.createSymbolicLink(module.resolve("abs"), Path.of("/etc"));
    Files.createSymbolicLink(module.resolve("z"), Path.of("abs/passwd"));
    assertRefused("is absolute");
  }

  @Test
  void linksThatStayInsideThroughOtherLinksAreKept() throws IOException {
    Files.createSymbolicLink(module.resolve("l"), Path.of("."));
    Files.createSymbolicLink(module.resolve("sub/up"), Path.of(".."));
    Files.createSymbolicLink(module.resolve("x"), Path.of("l/sub/up/inside.txt"));
    Files.createSymbolicLink(module.resolve("sub/w"), Path.of("../missing/../inside.txt"));
    try (StagingScope scope = area.newScope("fine")) {
      Staged staged = scope.stageDirectory(MODULE, origin);
      assertThat(Files.isSymbolicLink(staged.path().resolve("x"))).isTrue();
      assertThat(Files.readString(staged.path().resolve("x"))).isEqualTo("ours\n");
      assertThat(Files.isSymbolicLink(staged.path().resolve("sub/w"))).as("kept, dangling as in the source").isTrue();
    }
    area.close();
  }
}
