package dev.statewright.staging;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * A lease holder asked for staged content that is no longer there: something deleted it behind
 * the staging area's back. Names the source, origin, staging path, holder and state history.
 */
public final class StagedContentMissingException extends StagingException {
  private static final long serialVersionUID = 1L;
  private static final int RECENT = 5;

  /** The holder whose lease, or {@code "verify"}, found the content gone. */
  private final String holder;

  StagedContentMissingException(URI source, Path origin, Path stagingPath, String holder,
      List<String> history) {
    super("staged content for " + holder + " is missing: it was deleted outside the staging area"
        + "; history: " + recent(history), source, origin, stagingPath, null);
    this.holder = holder;
  }

  private static String recent(List<String> history) {
    int shown = Math.min(history.size(), RECENT);
    String older = history.size() > shown ? "(" + (history.size() - shown) + " earlier) -> " : "";
    return older + String.join(" -> ", history.subList(history.size() - shown, history.size()));
  }

  /**
   * The holder whose lease found the content gone.
   *
   * @return the holder's name, or {@code "verify"} when {@link Staged#verify()} found it gone
   */
  public String holder() {
    return holder;
  }
}
