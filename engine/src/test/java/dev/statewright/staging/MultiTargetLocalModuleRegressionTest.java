package dev.statewright.staging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.lease.Lease;
import dev.statewright.testing.Workers;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The field failure: a bundle with {@code file://./modules/redis} applied to clusters A and B; A
 * succeeded, B failed with "module not found at path /tmp/…/A/modules/redis" because B resolved
 * the module against A's workspace instead of the bundle's own directory.
 */
class MultiTargetLocalModuleRegressionTest {
  private static final URI MODULE = URI.create("file://./modules/redis");
  private static final List<String> TARGETS = List.of("cluster-a", "cluster-b", "cluster-c");

  @TempDir
  Path tmp;

  @Test
  void threeTargetsInTurnEachFindTheSameModule() throws Exception {
    Path bundle = Bundles.bundleWithRedisModule(tmp.resolve("bundle"));
    Map<String, String> digests = new ConcurrentHashMap<>();
    try (StagingArea area = StagingArea.open(tmp.resolve("staging"))) {
      try (StagingScope run = area.newScope("bundle apply")) {
        for (String target : TARGETS) {
          applyTo(target, run.stageDirectory(MODULE, bundle), digests);
        }
        assertThat(run.staged()).hasSize(1);
      }
      assertThat(Bundles.listing(area.root())).as("nothing left after the run").isEmpty();
    }
    assertThat(digests).hasSize(3);
    assertThat(Set.copyOf(digests.values())).hasSize(1);
  }

  @Test
  void threeTargetsAtOnceEachFindTheSameModule() throws Exception {
    Path bundle = Bundles.bundleWithRedisModule(tmp.resolve("bundle"));
    Map<String, String> digests = new ConcurrentHashMap<>();
    try (StagingArea area = StagingArea.open(tmp.resolve("staging"))) {
      try (StagingScope run = area.newScope("bundle apply")) {
        Workers.run(TARGETS.size(), i -> applyTo(TARGETS.get(i), run.stageDirectory(MODULE, bundle), digests));
        assertThat(run.staged()).as("staged once for all three").hasSize(1);
      }
      assertThat(Bundles.listing(area.root())).isEmpty();
    }
    assertThat(Set.copyOf(digests.values())).hasSize(1);
  }

  private static void applyTo(String target, Staged module, Map<String, String> digests)
      throws Exception {
    try (Lease<Path> lease = module.acquire(target)) {
      Path redis = lease.get();
      assertThat(redis.resolve("templates/deployment.yaml")).exists();
      assertThat(Files.readString(redis.resolve("module.cue"))).contains("redis");
      module.verify();
      digests.put(target, module.digest());
    }
  }
}
