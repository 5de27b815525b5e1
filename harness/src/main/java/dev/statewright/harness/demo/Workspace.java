package dev.statewright.harness.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A temporary folder for one demonstration, deleted with everything in it when closed. */
final class Workspace implements AutoCloseable {
  final Path root;

  private Workspace(Path root) {
    this.root = root;
  }

  static Workspace create() throws IOException {
    return new Workspace(Files.createTempDirectory("statewright-demo-"));
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Override
  public void close() throws IOException {
    if (Files.exists(root)) {
      deleteTree(root);
    }
  }
}
