package dev.statewright.staging;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The second JVM of {@link StagingPidNamespaceAttackTest}, run in its own PID namespace:
 * {@code sweep} opens the area (sweeping what it judges dead) and says "opened"; {@code hold}
 * also opens a scope, says "holding <dir>" and waits to be killed.
 */
public final class NamespacedStager {
  private NamespacedStager() { }

  /** {@code args}: the mode ({@code sweep} or {@code hold}) and the staging root. */
  public static void main(String[] args) throws IOException {
    StagingArea area = StagingArea.open(Path.of(args[1]));
    System.out.println("opened as pid " + ProcessHandle.current().pid());
    if (args[0].equals("hold")) {
      StagingScope scope = area.newScope("namespaced run");
      System.out.println("holding " + scope.directory());
      System.out.flush();
      while (System.in.read() >= 0) {
        // wait for the parent to kill us
      }
    }
    area.close();
  }
}
