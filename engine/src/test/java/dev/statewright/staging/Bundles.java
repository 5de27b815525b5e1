package dev.statewright.staging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** A bundle folder on disk, as a user would have it: bundle.cue beside modules/redis. */
final class Bundles {
  private Bundles() { }

  /** Creates {@code dir/bundle.cue} and a redis module with a few files; returns the bundle file. */
  static Path bundleWithRedisModule(Path dir) throws IOException {
    Path module = Files.createDirectories(dir.resolve("modules/redis/templates"));
    Files.writeString(module.resolve("../module.cue"), "module: \"redis\"\n");
    Files.writeString(module.resolve("deployment.yaml"), "kind: Deployment\nreplicas: 3\n");
    Files.writeString(module.resolve("service.yaml"), "kind: Service\n");
    return Files.writeString(dir.resolve("bundle.cue"), "bundle: { redis: { module: \"file://./modules/redis\" } }\n");
  }

  /** Every path below {@code root}, relative, sorted. */
  static List<String> listing(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      return all.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString()).sorted().toList();
    }
  }
}
