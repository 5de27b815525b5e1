package dev.statewright.staging;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * The child process of {@link StagingCrashTest}: stages its standard input and says so on
 * standard output after the first chunk, so the parent can SIGKILL it mid-staging.
 */
public final class CrashingStager {
  private CrashingStager() { }

  /** {@code args[0]}: the staging root. */
  public static void main(String[] args) throws IOException {
    StagingArea area = StagingArea.open(Path.of(args[0]));
    StagingScope scope = area.newScope("crashing run");
    InputStream announcing = new FilterInputStream(System.in) {
      private boolean announced;

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (!announced && n > 0) {
          announced = true;
          System.out.println("staging " + scope.directory());
          System.out.flush();
        }
        return n;
      }
    };
    scope.stageStream("bundle.cue", announcing, Long.MAX_VALUE);
    System.out.println("finished");
  }
}
