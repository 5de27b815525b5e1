package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 5 of the hostile-filesystem issue: a staging root (or a scope directory in it) owned by
 * another user, who could then redirect our writes, is refused, and not chmod'ed for them. Giving
 * a directory away takes root: where the tests do not run as root these are skipped, saying so.
 */
class StagingOwnershipAttackTest {
  private static final int STRANGER = 4242;

  @TempDir
  Path tmp;

  @BeforeEach
  void asRoot() throws IOException {
    boolean root = Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0);
    if (!root) {
      System.err.println("StagingOwnershipAttackTest SKIPPED: chown needs root, these tests run as"
          + " uid " + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    }
    assumeTrue(root, "chown needs root");
  }

  @Test
  void aRootOwnedByAnotherUserIsRefusedAndLeftAsItWas() throws IOException {
    Path root = Files.createDirectory(tmp.resolve("staging"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx")));
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxrwxrwx"));
    Files.setAttribute(root, "unix:uid", STRANGER, LinkOption.NOFOLLOW_LINKS);

    assertThatThrownBy(() -> StagingArea.open(root)).isInstanceOf(AccessDeniedException.class)
        .hasMessageContaining("staging root is owned by " + STRANGER)
        .hasMessageContaining("not by the current user root");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root)))
        .as("not chmod'ed for its owner").isEqualTo("rwxrwxrwx");
  }

  @Test
  void aScopeDirectoryOwnedByAnotherUserIsRefused() throws IOException {
    Path root = tmp.resolve("staging");
    StagingArea.open(root).close();
    Path planted = Files.createDirectory(root.resolve("scope-1-2-3-planted"));
    Files.setAttribute(planted, "unix:uid", STRANGER, LinkOption.NOFOLLOW_LINKS);

    assertThatThrownBy(() -> StagingArea.open(root)).isInstanceOf(AccessDeniedException.class)
        .hasMessageContaining("scope directory is owned by " + STRANGER);
  }

  @Test
  void anExistingRootOfOursIsMadeOwnerOnly() throws IOException {
    Path root = Files.createDirectory(tmp.resolve("staging"));
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (StagingArea area = StagingArea.open(root)) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(area.root())))
          .isEqualTo("rwx------");
    }
  }
}
