package dev.statewright.harness.demo;

import dev.statewright.staging.Rollout;
import dev.statewright.staging.Staged;
import dev.statewright.staging.StagedContentMissingException;
import dev.statewright.staging.StagingArea;
import dev.statewright.staging.StagingException;
import dev.statewright.staging.StagingScope;
import dev.statewright.staging.UnresolvableSourceException;
import dev.statewright.time.Scheduler;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The multi-target bundle apply, end to end: a bundle folder with a local module, a bundle read
 * from a stream, three targets in turn and three at once, and a staged copy deleted behind a
 * target's back. Each check asserts S1–S6 on what happened.
 */
final class BundleDemo {
  private static final URI MODULE = URI.create("file://./modules/redis");
  private static final String BUNDLE = "bundle: {\n  redis: { module: \"file://./modules/redis\" }\n}\n";

  private final PrintStream out;
  private final Checks checks;
  private final Path workspace;

  BundleDemo(PrintStream out, Checks checks, Path workspace) {
    this.out = out;
    this.checks = checks;
    this.workspace = workspace;
  }

  void run() throws IOException {
    out.println();
    out.println("== Bundle apply: one bundle, a local module, several clusters ==");
    Path bundleFile = bundleFolder();
    out.println("   bundle: " + bundleFile);
    try (StagingArea area = StagingArea.open(workspace.resolve("staging"))) {
      try (StagingScope run = area.newScope("bundle apply")) {
        Staged module = run.stageDirectory(MODULE, bundleFile);
        Staged stdin = run.stageStream("bundle.cue",
            new ByteArrayInputStream(BUNDLE.getBytes(StandardCharsets.UTF_8)), 1 << 20);
        out.println("   staged " + module.source() + " -> " + module.path() + " (" + module.digest() + ")");
        out.println("   staged " + stdin.source() + " -> " + stdin.path());
        relativeSourceFromAStream(run);
        apply("1. three clusters in turn", module, stdin,
            List.of("cluster-a", "cluster-b", "cluster-c"), false);
        apply("2. three clusters at once", module, stdin,
            List.of("cluster-d", "cluster-e", "cluster-f"), true);
        deletedBehindATargetsBack(module, stdin);
      }
      step("4. the run is over");
      checks.check("S2", "closing the run deleted everything it staged, stream included",
          listing(area.root()).isEmpty(), listing(area.root()).toString());
    }
  }

  private void relativeSourceFromAStream(StagingScope run) {
    try {
      run.stageDirectory(MODULE, null);
      checks.check("S3", "a relative module in a bundle read from a stream is refused", false,
          "it was staged");
    } catch (UnresolvableSourceException expected) {
      checks.check("S3", "a relative module in a bundle read from a stream is refused, clearly",
          expected.getMessage().contains("needs an origin"), expected.getMessage());
    }
  }

  private void apply(String title, Staged module, Staged stdin, List<String> targets,
      boolean parallel) {
    step(title);
    Map<String, String> seen = new ConcurrentHashMap<>();
    Rollout.TargetAction<String> action = (target, paths) -> applyBundle(target, paths, seen);
    List<Staged> staged = List.of(module, stdin);
    Rollout.Report<String> report = parallel
        ? Rollout.parallel(staged, targets, targets.size(), Scheduler.system(), action)
        : Rollout.sequential(staged, targets, action);
    report.results().forEach(r -> out.println("   " + r.target() + ": " + r.outcome()
        + (r.error() == null ? "" : " -- " + r.error().getMessage())));
    checks.check("S3", "every target found the module the bundle names, at the staged copy",
        report.succeeded() && seen.size() == targets.size()
            && seen.values().stream().allMatch(p -> p.equals(module.path().toString())),
        seen.size() + " of " + targets.size() + " targets");
    checks.check("S4", "the content every target read is the content digested at staging",
        verifies(module) && verifies(stdin), module.digest());
    checks.check("S2", "all leases closed; the staged content stays for the rest of the run",
        module.holders().isEmpty() && stdin.holders().isEmpty() && Files.exists(module.path()), "");
  }

  private static boolean verifies(Staged staged) {
    try {
      staged.verify();
      return true;
    } catch (StagingException changedOrMissing) {
      return false;
    }
  }

  private static void applyBundle(String target, List<Path> paths, Map<String, String> seen)
      throws IOException {
    Path module = paths.get(0);
    Path bundle = paths.get(1);
    if (!Files.readString(bundle).contains("file://./modules/redis")
        || !Files.exists(module.resolve("templates/deployment.yaml"))) {
      throw new IOException(target + ": module not found at path " + module);
    }
    seen.put(target, module.toString());
  }

  private void deletedBehindATargetsBack(Staged module, Staged stdin) {
    step("3. a cleaner deletes the staged module while cluster-y's apply is queued");
    Rollout.Report<String> report = Rollout.sequential(List.of(module, stdin),
        List.of("cluster-x", "cluster-y", "cluster-z"), (target, paths) -> {
          applyBundle(target, paths, new ConcurrentHashMap<>());
          if (target.equals("cluster-x")) {
            Workspace.deleteTree(module.path()); // someone else's tmp cleaner
          }
        });
    report.results().forEach(r -> out.println("   " + r.target() + ": " + r.outcome()));
    Throwable error = report.failures().isEmpty() ? null : report.failures().get(0).error();
    out.println("   error: " + (error == null ? "none" : error.getMessage()));
    checks.check("S1", "cluster-y is told exactly what vanished, not 'module not found'",
        error instanceof StagedContentMissingException missing
            && missing.holder().equals("cluster-y")
            && missing.getMessage().contains(MODULE.toString())
            && missing.getMessage().contains(module.path().toString()),
        error == null ? "no error" : error.getClass().getSimpleName());
    checks.check("S1", "the run stopped there: cluster-z was not started",
        report.results().get(2).outcome() == Rollout.Outcome.SKIPPED, "");
  }

  private Path bundleFolder() throws IOException {
    Path bundle = Files.createDirectories(workspace.resolve("bundle"));
    Path templates = Files.createDirectories(bundle.resolve("modules/redis/templates"));
    Files.writeString(bundle.resolve("modules/redis/module.cue"), "module: \"redis\"\n");
    Files.writeString(templates.resolve("deployment.yaml"), "kind: Deployment\nreplicas: 3\n");
    Files.writeString(templates.resolve("service.yaml"), "kind: Service\n");
    return Files.writeString(bundle.resolve("bundle.cue"), BUNDLE);
  }

  private void step(String title) {
    out.println();
    out.println("-- " + title);
  }

  private static Set<String> listing(Path root) throws IOException {
    try (Stream<Path> all = Files.list(root)) {
      return Set.copyOf(all.map(p -> p.getFileName().toString()).toList());
    }
  }
}
