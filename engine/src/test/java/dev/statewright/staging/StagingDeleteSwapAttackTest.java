package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.lease.Lease;
import dev.statewright.testing.Seeds;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 2 of the hostile-filesystem issue, the worst one: a target holding a lease swaps a
 * directory of the staged copy for a link to a directory outside the staging root while the
 * copy is deleted. Nothing outside the root may be deleted (S5).
 */
class StagingDeleteSwapAttackTest {
  private static final int ATTEMPTS = 200;
  private static final int FILES = 30;

  @TempDir
  Path tmp;

  @Test
  void aStagedDirectorySwappedForALinkWhileItIsDeletedNeverDeletesWhatItPointsAt() throws Exception {
    SplittableRandom random = Seeds.random("delete swap attack");
    Path bundle = Files.createDirectories(tmp.resolve("project"));
    Path sub = Files.createDirectories(bundle.resolve("modules/m/sub"));
    for (int i = 0; i < FILES; i++) {
      Files.writeString(sub.resolve("f" + i), "ours\n");
    }
    Path origin = Files.writeString(bundle.resolve("bundle.cue"), "bundle: {}\n");
    Path victim = Files.createDirectories(tmp.resolve("victim"));
    Path hold = Files.createDirectories(tmp.resolve("hold"));
    int flips = 0;
    try (StagingArea area = StagingArea.builder(tmp.resolve("staging")).closeGrace(Duration.ZERO).open()) {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        refill(victim);
        Path hidden = hold.resolve("sub-" + attempt);
        Path link = Files.createSymbolicLink(hold.resolve("link-" + attempt), victim);
        StagingScope scope = area.newScope("attempt " + attempt);
        Staged copy = scope.stageDirectory(URI.create("file://./modules/m"), origin);
        Path staged = copy.path().resolve("sub");
        Lease<Path> lease = copy.acquire("attacker");
        scope.close(); // the content goes when the attacker's lease closes
        try (Swapper attacker = new Swapper("swap staged sub", random.nextLong(), true, toLink -> {
          if (toLink) {
            Files.move(staged, hidden, StandardCopyOption.ATOMIC_MOVE);
            Files.move(link, staged, StandardCopyOption.ATOMIC_MOVE);
          } else {
            Files.move(staged, link, StandardCopyOption.ATOMIC_MOVE);
            Files.move(hidden, staged, StandardCopyOption.ATOMIC_MOVE);
          }
        })) {
          attacker.started();
          lease.close(); // deletes while the attacker swaps
          flips += attacker.flips();
        }
        assertThat(count(victim)).as("files outside the root left after attempt " + attempt)
            .isEqualTo(FILES);
      }
      System.out.println("delete swap attack: " + flips + " flips over " + ATTEMPTS + " deletions");
    }
  }

  private static void refill(Path victim) throws IOException {
    for (int i = 0; i < FILES; i++) {
      Files.writeString(victim.resolve("f" + i), "precious\n");
    }
  }

  private static long count(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> all = Files.list(dir)) {
      all.forEach(files::add);
    }
    return files.size();
  }
}
