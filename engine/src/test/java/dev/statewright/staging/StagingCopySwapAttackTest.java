package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.testing.Seeds;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 1 of the hostile-filesystem issue: while {@code stageDirectory} copies, an attacker with
 * write access to the source swaps one of its directories for a link to a directory outside it
 * holding files of the same names. Nothing from outside may be staged (S5): every attempt either
 * stages the source's own content or fails, and leaves no partial tree.
 */
class StagingCopySwapAttackTest {
  private static final int ATTEMPTS = 200;
  private static final int FILES = 30;

  @TempDir
  Path tmp;

  @Test
  void aDirectorySwappedForALinkMidCopyNeverStagesWhatItPointsAt() throws Exception {
    SplittableRandom random = Seeds.random("copy swap attack");
    Path bundle = Files.createDirectories(tmp.resolve("project"));
    Path module = Files.createDirectories(bundle.resolve("modules/m"));
    Path sub = Files.createDirectories(module.resolve("sub"));
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Path hold = Files.createDirectories(tmp.resolve("hold"));
    for (int i = 0; i < FILES; i++) {
      Files.writeString(sub.resolve("f" + i), "ours\n");
      Files.writeString(module.resolve("g" + i), "ours\n");
      Files.writeString(outside.resolve("f" + i), "SECRET\n");
    }
    Files.createSymbolicLink(hold.resolve("link"), outside);
    Path origin = Files.writeString(bundle.resolve("bundle.cue"), "bundle: {}\n");
    List<String> leaks = new ArrayList<>();
    int staged = 0;
    int refused = 0;
    try (StagingArea area = StagingArea.open(tmp.resolve("staging"));
         Swapper attacker = new Swapper("swap sub", random.nextLong(), false, toLink -> {
           if (toLink) {
             Files.move(sub, hold.resolve("sub"), StandardCopyOption.ATOMIC_MOVE);
             Files.move(hold.resolve("link"), sub, StandardCopyOption.ATOMIC_MOVE);
           } else {
             Files.move(sub, hold.resolve("link"), StandardCopyOption.ATOMIC_MOVE);
             Files.move(hold.resolve("sub"), sub, StandardCopyOption.ATOMIC_MOVE);
           }
         })) {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        try (StagingScope scope = area.newScope("attempt " + attempt)) {
          Staged copy = scope.stageDirectory(URI.create("file://./modules/m"), origin);
          staged++;
          leaks.addAll(secrets(copy.path()));
        } catch (StagingException refusedOrVanished) {
          refused++;
        }
      }
      System.out.println("copy swap attack: " + staged + " staged, " + refused + " refused, "
          + attacker.flips() + " flips");
      assertThat(Bundles.listing(area.root())).as("nothing left behind").isEmpty();
    }
    assertThat(leaks).as("files from outside the source that were staged").isEmpty();
  }

  private static List<String> secrets(Path staged) throws IOException {
    try (Stream<Path> all = Files.walk(staged)) {
      List<String> found = new ArrayList<>();
      for (Path p : all.filter(Files::isRegularFile).toList()) {
        if (Files.readString(p).contains("SECRET")) {
          found.add(p.toString());
        }
      }
      return found;
    }
  }
}
