package dev.statewright.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.statewright.cache.ClientCache;
import dev.statewright.lease.LeasedResource;
import dev.statewright.staging.Staged;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The Mermaid block in each spec under {@code specs/} is what the engine declares, exactly. */
class LifecycleSpecConformanceTest {
  private static final Path SPECS = Path.of("..", "specs");
  private static final Pattern BLOCK = Pattern.compile("```mermaid\\s*\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern EDGE =
      Pattern.compile("^\\s*(\\[\\*]|\\w+)\\s*-->\\s*(\\[\\*]|\\w+)\\s*(?::\\s*(\\w+))?\\s*$");

  @Test
  void repositoryLifecycleMatchesTheClientCache() throws IOException {
    assertConforms("repository-lifecycle.md", ClientCache.LIFECYCLE);
  }

  @Test
  void resourceLifecycleMatchesLeasedResource() throws IOException {
    assertConforms("resource-lifecycle.md", LeasedResource.LIFECYCLE);
  }

  @Test
  void stagingLifecycleMatchesStagedContent() throws IOException {
    assertConforms("staging-lifecycle.md", Staged.LIFECYCLE);
  }

  @Test
  void theParserSeesADifferenceOfOneTransition() {
    String spec = ClientCache.LIFECYCLE.toMermaid()
        .replace("REBUILDING --> STALE : BUILD_FAILED", "REBUILDING --> CURRENT : BUILD_FAILED");
    assertThat(edges(spec)).isNotEqualTo(edges(ClientCache.LIFECYCLE.toMermaid()));
  }

  private static void assertConforms(String file, Lifecycle<?, ?> lifecycle) throws IOException {
    String markdown = Files.readString(SPECS.resolve(file));
    Matcher block = BLOCK.matcher(markdown);
    assertThat(block.find()).as("%s has a mermaid block", file).isTrue();
    assertThat(block.group(1).lines().findFirst()).contains("stateDiagram-v2");
    assertThat(edges(block.group(1)))
        .as("%s against %s", file, lifecycle)
        .isEqualTo(edges(lifecycle.toMermaid()));
    assertThat(block.find()).as("%s has exactly one mermaid block", file).isFalse();
  }

  /** Every edge as "FROM -> TO : EVENT", including [*] for initial and terminal states. */
  private static Set<String> edges(String mermaid) {
    Set<String> edges = new LinkedHashSet<>();
    for (String line : mermaid.lines().skip(1).collect(Collectors.toList())) {
      if (line.isBlank()) {
        continue;
      }
      Matcher edge = EDGE.matcher(line);
      assertThat(edge.matches()).as("a transition line: '%s'", line).isTrue();
      edges.add(edge.group(1) + " -> " + edge.group(2)
          + (edge.group(3) == null ? "" : " : " + edge.group(3)));
    }
    return edges;
  }
}
