package dev.statewright.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The cache package's shape, pinned: its classes form layers and every arrow points down (a class
 * uses only classes in layers below its own; the one exception is the builder's {@code build()},
 * which names the cache it builds), and no file dominates the package.
 */
class CacheShapeTest {
  /** Top to bottom. A class in none of them fails the test: place it. */
  private static final List<List<String>> LAYERS = List.of(
      List.of("ClientCache"),
      List.of("ClientCacheBuilder"),
      List.of("UpdateEffects"),
      List.of("EventIntake"),
      List.of("SourceSupervisor", "LeaseIssuer", "BuildLauncher", "DependencyWaves",
          "ClientRenewal"),
      List.of("ConsistentReads", "DependencyIndex", "BuildGate", "ServedClients"),
      List.of("SourceProgress", "EntryTable"),
      List.of("Entry"),
      List.of("Node"),
      List.of("Waiter"),
      List.of("ClientExpiry"),
      List.of("BuildRun", "Served", "ReconfigureRun", "UserCode", "Arguments"),
      List.of("ServedClient"),
      List.of("AsyncClientFactory", "Backoff", "CacheListener", "ChangePolicy", "ClientFactory",
          "ClientLease", "ClientUnavailableException", "Freshness", "Reconfigurer", "Snapshot",
          "StaleVersionException", "Wave", "KeyCounts"),
      List.of("Change", "EntryEvent", "EntryState"));
  private static final Path SOURCES = Path.of("src/main/java/dev/statewright/cache");

  @Test
  void noArrowRunsBackUpInsideTheCachePackage() {
    JavaClasses classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("dev.statewright.cache");
    Map<String, Integer> layerOf = new LinkedHashMap<>();
    for (int i = 0; i < LAYERS.size(); i++) {
      for (String name : LAYERS.get(i)) {
        layerOf.put(name, i);
      }
    }
    List<String> upward = new ArrayList<>();
    for (JavaClass c : classes) {
      if (!c.getPackageName().equals("dev.statewright.cache")) {
        continue;
      }
      String from = topLevel(c);
      assertThat(layerOf).as("the layer of " + from).containsKey(from);
      for (Dependency d : c.getDirectDependenciesFromSelf()) {
        JavaClass target = d.getTargetClass().getBaseComponentType();
        if (!target.getPackageName().equals("dev.statewright.cache")) {
          continue;
        }
        String to = topLevel(target);
        boolean builds = from.equals("ClientCacheBuilder") && to.equals("ClientCache");
        if (!to.equals(from) && !builds && layerOf.getOrDefault(to, -1) <= layerOf.get(from)) {
          upward.add(from + " -> " + to + " (" + d.getDescription() + ")");
        }
      }
    }
    assertThat(upward).as("arrows that run back up").isEmpty();
  }

  @Test
  void clientCacheStaysSmallAndNoFileDominatesThePackage() throws IOException {
    Map<String, Long> lines = new LinkedHashMap<>();
    try (Stream<Path> files = Files.list(SOURCES)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        try (Stream<String> text = Files.lines(file)) {
          lines.put(file.getFileName().toString(), text.count());
        }
      }
    }
    long total = lines.values().stream().mapToLong(Long::longValue).sum();
    assertThat(lines.get("ClientCache.java")).as("ClientCache.java lines").isLessThanOrEqualTo(500);
    lines.forEach((file, n) -> assertThat(100.0 * n / total)
        .as(file + ": " + n + " of " + total + " lines in the package").isLessThanOrEqualTo(40.0));
  }

  private static String topLevel(JavaClass c) {
    String name = c.getName().substring(c.getPackageName().length() + 1);
    int nested = name.indexOf('$');
    return nested < 0 ? name : name.substring(0, nested);
  }
}
