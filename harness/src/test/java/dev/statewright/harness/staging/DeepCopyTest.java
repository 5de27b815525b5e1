package dev.statewright.harness.staging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The deep tree the staging property builds is as deep as it says, and its scratch goes. */
class DeepCopyTest {
  @TempDir
  Path tmp;

  @Test
  void theChainHasExactlyTheLevelsAskedForAndIsRemoved() throws Exception {
    Path scratch = Files.createDirectory(tmp.resolve("scratch"));
    for (int depth : new int[] {1, 2, 500, 501, 1001}) {
      Path at = scratch.resolve("deep-" + depth);
      DeepCopy.chain(scratch, at, depth);
      assertEquals(depth, levels(at), "levels of the chain asked " + depth + " deep");
    }
    DeepCopy.removeScratch(scratch);
    assertFalse(Files.exists(scratch, LinkOption.NOFOLLOW_LINKS), "the scratch folder, removed");
  }

  /** Levels below and including {@code top}, counted through open directories (no long path). */
  private static int levels(Path top) throws IOException {
    int levels = 1;
    DirectoryStream<Path> opened = Files.newDirectoryStream(top);
    SecureDirectoryStream<Path> at = (SecureDirectoryStream<Path>) opened;
    try {
      while (hasD(at)) {
        SecureDirectoryStream<Path> next = at.newDirectoryStream(Path.of("d"), LinkOption.NOFOLLOW_LINKS);
        at.close();
        at = next;
        levels++;
      }
    } finally {
      at.close();
    }
    return levels;
  }

  private static boolean hasD(SecureDirectoryStream<Path> dir) {
    for (Path entry : dir) {
      if (entry.getFileName().toString().equals("d")) {
        return true;
      }
    }
    return false;
  }
}
