package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.statewright.testing.Seeds;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 7 of the hostile-filesystem issue (and the names of item 8): the digest must tell apart
 * trees whose old, unescaped encoding was the same ({@code {x/, y/}} against one directory named
 * {@code "x\nd y"}), so {@code verify()} notices a swap; its format is pinned by the test vector
 * of {@code specs/staging-lifecycle.md}; a name is staged byte for byte or refused, naming it.
 */
class StagingDigestAttackTest {
  /** The spec's test vector: {@code a/} (0700), {@code a/f} = "hi\n" (0600), {@code l -> a/f}. */
  static final String VECTOR = "sha256:335cf8f08d706d836a9861fb171b99e5ab790b3d4e408b304580db35c43bfd32";

  @TempDir
  Path tmp;
  private Path origin;
  private StagingArea area;
  private StagingScope scope;

  @BeforeEach
  void open() throws IOException {
    origin = Files.writeString(Files.createDirectories(tmp.resolve("project")).resolve("bundle.cue"), "");
    area = StagingArea.open(tmp.resolve("staging"));
    scope = area.newScope("digest");
  }

  @AfterEach
  void close() {
    area.close();
  }

  @Test
  void theEncodingIsPinnedByTheSpecsTestVector() throws IOException {
    ContentDigest digest = new ContentDigest();
    digest.directory("a", 0700);
    digest.file("a/f", 0600, new ByteArrayInputStream("hi\n".getBytes(StandardCharsets.UTF_8)));
    digest.link("l", "a/f");
    assertThat(digest.value()).isEqualTo(VECTOR);

    Path module = Files.createDirectories(tmp.resolve("project/modules/v/a"));
    Files.writeString(module.resolve("f"), "hi\n");
    Files.createSymbolicLink(module.resolve("../l"), Path.of("a/f"));
    assertThat(stage("v").digest()).as("the same tree, staged").isEqualTo(VECTOR);
    assertThat(Files.readString(Path.of("..", "specs", "staging-lifecycle.md")))
        .as("the spec states the same vector").contains(VECTOR.substring("sha256:".length()));
  }

  /**
   * The digest is taken while the tree is copied (one pass over the content), so it must be the
   * digest of the copy as it is on disk: the bytes written, the modes it has, the links it holds,
   * in the same order. A random tree: nested directories, empty files, files longer than the copy
   * buffer, executables, links.
   */
  @Test
  void theDigestTakenWhileCopyingIsTheDigestOfTheCopyOnDisk() throws IOException {
    SplittableRandom random = Seeds.random("digest while copying");
    Path module = Files.createDirectories(tmp.resolve("project/modules/r"));
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Path dir = module.resolve(random.nextInt(3) == 0 ? "" : "d" + random.nextInt(4)
          + (random.nextBoolean() ? "" : "/e" + random.nextInt(3)));
      byte[] bytes = new byte[random.nextInt(4) == 0 ? 0 : random.nextInt(3) == 0
          ? 64 * 1024 + random.nextInt(200_000) : random.nextInt(100)];
      random.nextBytes(bytes);
      Path file = Files.write(Files.createDirectories(dir).resolve("f" + i), bytes);
      if (random.nextInt(4) == 0) {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-x---"));
      }
      files.add(file);
    }
    for (int i = 0; i < 5; i++) {
      Path target = files.get(random.nextInt(files.size()));
      Files.createSymbolicLink(module.resolve("l" + i), module.relativize(target));
    }

    Staged staged = stage("r");

    assertThat(staged.digest()).isEqualTo(ContentTree.digest(staged.path()));
    staged.verify();
  }

  @Test
  void treesTheOldEncodingConfusedHaveDifferentDigests() throws IOException {
    Files.createDirectories(tmp.resolve("project/modules/two/x"));
    Files.createDirectories(tmp.resolve("project/modules/two/y"));
    Files.createDirectories(tmp.resolve("project/modules/one/x\nd y"));

    assertThat(stage("two").digest()).isNotEqualTo(stage("one").digest());
  }

  @Test
  void verifyNoticesOneTreeSwappedForItsOldTwin() throws IOException {
    Files.createDirectories(tmp.resolve("project/modules/two/x"));
    Files.createDirectories(tmp.resolve("project/modules/two/y"));
    Staged staged = stage("two");
    Files.delete(staged.path().resolve("x"));
    Files.delete(staged.path().resolve("y"));
    Files.createDirectory(staged.path().resolve("x\nd y"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));

    assertThatThrownBy(staged::verify).isInstanceOf(StagedContentChangedException.class);
  }

  @Test
  void modeAndContentAndOrderAreInTheDigest() throws IOException {
    Path module = Files.createDirectories(tmp.resolve("project/modules/m"));
    Files.writeString(module.resolve("b"), "1");
    Files.writeString(module.resolve("a"), "2");
    Staged staged = stage("m");
    staged.verify();
    Files.setPosixFilePermissions(staged.path().resolve("a"), PosixFilePermissions.fromString("rwx------"));
    assertThatThrownBy(staged::verify).as("mode").isInstanceOf(StagedContentChangedException.class);
    Files.setPosixFilePermissions(staged.path().resolve("a"), PosixFilePermissions.fromString("rw-------"));
    Files.writeString(staged.path().resolve("a"), "3");
    assertThatThrownBy(staged::verify).as("content").isInstanceOf(StagedContentChangedException.class);
  }

  @Test
  void aSpecialFilePutIntoStagedContentIsAChange() throws Exception {
    Files.createDirectories(tmp.resolve("project/modules/m"));
    Files.writeString(tmp.resolve("project/modules/m/a"), "1");
    Staged staged = stage("m");
    StagingFifoAttackTest.mkfifo(staged.path().resolve("b"));
    assertThatThrownBy(staged::verify).isInstanceOf(StagedContentChangedException.class);
  }

  @Test
  void namesAreOrderedByTheirBytesUnsigned() {
    assertThat(ContentDigest.BY_NAME_BYTES.compare(Path.of("\u00e9"), Path.of("z"))).isPositive();
    assertThat(ContentDigest.BY_NAME_BYTES.compare(Path.of("a"), Path.of("ab"))).isNegative();
    assertThat(ContentDigest.BY_NAME_BYTES.compare(Path.of("b"), Path.of("b"))).isZero();
  }

  @Test
  void theExecutableBitIsKept() throws IOException {
    Path module = Files.createDirectories(tmp.resolve("project/modules/m"));
    Files.writeString(module.resolve("run.sh"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(module.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(module.resolve("data"), "x");
    Staged staged = stage("m");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(staged.path().resolve("run.sh"))))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(staged.path().resolve("data"))))
        .isEqualTo("rw-------");
  }

  @Test
  void aNameThatIsNotValidInTheFileNameEncodingIsRefusedNamingIt() throws Exception {
    Path module = Files.createDirectories(tmp.resolve("project/modules/m"));
    Process touch = new ProcessBuilder("sh", "-c", "touch \"$(printf 'bad\\377name')\"")
        .directory(module.toFile()).start();
    assertThat(touch.waitFor(10, TimeUnit.SECONDS) && touch.exitValue() == 0).isTrue();

    assertThatThrownBy(() -> stage("m")).isInstanceOf(UnsafeSourceException.class)
        .hasMessageContaining("the name of bad")
        .hasMessageContaining("cannot be staged byte for byte");
    assertThat(Bundles.listing(scope.directory())).containsExactly("owner");
  }

  private Staged stage(String module) {
    return scope.stageDirectory(URI.create("file://./modules/" + module), origin);
  }
}
