package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two staging areas of one JVM on one root (two libraries of one process, each opening the
 * default root) numbered their scopes each from 1: the second area's first scope collided with
 * the first's and {@code newScope} failed with "cannot create staging scope ...
 * FileAlreadyExistsException".
 */
class TwoAreasOnOneRootRegressionTest {
  @TempDir
  Path tmp;

  @Test
  void twoAreasOfOneJvmOnOneRootEachOpenAScopeOfTheSameName() throws IOException {
    try (StagingArea first = StagingArea.open(tmp.resolve("staging"));
         StagingArea second = StagingArea.open(tmp.resolve("staging"))) {
      StagingScope a = first.newScope("bundle apply");
      StagingScope b = second.newScope("bundle apply");
      assertThat(a.directory()).isNotEqualTo(b.directory());
      assertThat(a.directory().resolve("owner")).exists();
      assertThat(b.directory().resolve("owner")).exists();
      b.close();
      assertThat(a.directory().resolve("owner")).as("closing one leaves the other's").exists();
    }
  }
}
