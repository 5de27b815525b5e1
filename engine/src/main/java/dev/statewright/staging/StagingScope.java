package dev.statewright.staging;

import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Everything staged for one run ("bundle apply to A, B and C"), in one owner-only directory. A
 * directory source is staged once per scope however many targets ask; closing the scope retires
 * everything it staged, so each item is deleted when its last lease closes.
 *
 * <p>Thread-safe: several threads may stage and lease at once. {@link #close()} reports the
 * holders of leases still open, by name, and waits for them up to the area's grace period.
 *
 * <p>Memory consistency effects: actions prior to staging an item <i>happen-before</i> the return
 * of any {@code stageDirectory} call that returns the same item.
 */
public final class StagingScope implements AutoCloseable {
  /*
   * Overview: `pending` counts items being staged or staged and not yet deleted. It starts at 1,
   * the scope's own claim, which close() gives up; whoever brings it to 0 deletes the scope's
   * directory and completes `drained`. So the directory outlives every item and every stager.
   *
   * Transitions: OPEN -> CLOSED (`closed`); items follow the lease lifecycle on their own.
   */
  private static final System.Logger LOG = System.getLogger(StagingScope.class.getName());

  private final String name;
  private final Path dir;
  private final Path areaRoot;
  private final Scheduler scheduler;
  private final Duration grace;
  private final Consumer<StagingScope> onDrained;
  private final AtomicInteger sequence = new AtomicInteger();
  private final ConcurrentHashMap<Object, CompletableFuture<Staged>> items = new ConcurrentHashMap<>();
  private final AtomicInteger pending = new AtomicInteger(1);
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile List<String> lingering = List.of();

  StagingScope(String name, Path dir, Path areaRoot, Scheduler scheduler, Duration grace,
      Consumer<StagingScope> onDrained) {
    this.name = name;
    this.dir = dir;
    this.areaRoot = areaRoot;
    this.scheduler = scheduler;
    this.grace = grace;
    this.onDrained = onDrained;
  }

  /**
   * Stages the directory {@code source} names: {@code file://./m} or {@code file://../m}
   * relative to the directory of {@code origin} (the bundle file), or {@code file:///abs/m}.
   * The copy is made under a partial name and renamed into place, so no one sees half a tree.
   * Staging the same directory again in this scope returns the same {@link Staged}.
   *
   * @throws UnresolvableSourceException for another scheme or form, or a relative source
   *     without an origin
   * @throws SourceNotFoundException if the directory does not exist
   * @throws UnsafeSourceException for an escape, an escaping symlink or a special file
   */
  public Staged stageDirectory(URI source, Path origin) {
    Objects.requireNonNull(source, "source");
    requireOpen();
    Path real = SourceLocator.locate(source, origin);
    return once(real, () -> copyDirectory(source, origin, real));
  }

  /**
   * Stages the bytes of {@code in} (read once, here) as a file named {@code name}, reusable by
   * every target; a lease yields the file itself.
   *
   * @throws StagingLimitExceededException if the stream holds more than {@code maxBytes}
   */
  public Staged stageStream(String name, InputStream in, long maxBytes) {
    requireFileName(name);
    Objects.requireNonNull(in, "in");
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must be >= 0, got " + maxBytes);
    }
    requireOpen();
    return once(new Object(), () -> copyStream(name, in, maxBytes));
  }

  /** What this scope has staged so far. */
  public List<Staged> staged() {
    List<Staged> all = new ArrayList<>();
    items.values().forEach(f -> {
      if (f.isDone() && !f.isCompletedExceptionally()) {
        all.add(f.join());
      }
    });
    return all;
  }

  /** The scope's name, as given. */
  public String name() {
    return name;
  }

  /** The scope's own directory under the staging root. */
  public Path directory() {
    return dir;
  }

  /** Holders whose leases were still open when the grace period after close ran out. */
  public List<String> lingering() {
    return lingering;
  }

  /**
   * Retires everything staged, then waits up to the grace period for open leases to close,
   * logging their holders by name. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    List<Staged> all = staged();
    all.forEach(Staged::retire);
    release();
    if (drained.isDone()) {
      return;
    }
    List<String> holders = holders(all);
    LOG.log(System.Logger.Level.WARNING, () -> "closing staging scope '" + name
        + "' with leases still open, held by " + holders + "; waiting up to " + grace);
    if (!grace.isZero()) { // no grace, no wait: closing never blocks a single-threaded simulation
      CompletableFuture<Void> graceOver = new CompletableFuture<>();
      Scheduler.Cancellable timer = scheduler.schedule(() -> graceOver.complete(null), grace);
      CompletableFuture.anyOf(drained, graceOver).join();
      timer.cancel();
    }
    if (!drained.isDone()) {
      lingering = holders(all);
      LOG.log(System.Logger.Level.WARNING, () -> "staging scope '" + name + "' closed; "
          + lingering + " still hold content, deleted when they close their leases");
    }
  }

  private Staged once(Object key, Supplier<Staged> stage) {
    CompletableFuture<Staged> mine = new CompletableFuture<>();
    CompletableFuture<Staged> existing = items.putIfAbsent(key, mine);
    if (existing != null) {
      try {
        return existing.join();
      } catch (CompletionException e) {
        throw (RuntimeException) e.getCause();
      }
    }
    pending.incrementAndGet();
    try {
      Staged staged = stage.get();
      mine.complete(staged);
      if (closed.get()) {
        staged.retire(); // the scope closed while we copied
      }
      return staged;
    } catch (RuntimeException e) {
      items.remove(key, mine);
      mine.completeExceptionally(e);
      release();
      throw e;
    }
  }

  private Staged copyDirectory(URI source, Path origin, Path real) {
    String name = slug(real.getFileName() == null ? "root" : real.getFileName().toString());
    return stageAtomically(name, "cannot stage: ", source, origin,
        partial -> ContentTree.copy(ContentTree.scan(real, source, origin), partial),
        target -> target);
  }

  private Staged copyStream(String fileName, InputStream in, long maxBytes) {
    URI source = streamUri(fileName);
    return stageAtomically("stream", "cannot stage stream: ", source, null, partial -> {
      ContentTree.createOwnerOnlyDirectory(partial);
      ContentTree.copyStream(in, partial.resolve(fileName), maxBytes, source);
    }, target -> target.resolve(fileName));
  }

  /** Fills a new directory under a partial name. */
  @FunctionalInterface
  private interface Fill {
    void into(Path partial) throws IOException;
  }

  /**
   * Fills {@code partial-N}, digests it and renames it to {@code N-name}: nobody sees half a tree
   * (S4). On failure the partial tree is deleted. {@code leased} is what a lease hands out.
   */
  private Staged stageAtomically(String name, String failure, URI source, Path origin, Fill fill,
      UnaryOperator<Path> leased) {
    int n = sequence.incrementAndGet();
    Path partial = dir.resolve("partial-" + n);
    Path target = dir.resolve(n + "-" + name);
    try {
      fill.into(partial);
      String digest = ContentTree.digest(partial);
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      return new Staged(source, origin, target, leased.apply(target), digest, scheduler,
          deleter(target));
    } catch (IOException e) {
      ContentTree.delete(partial, areaRoot);
      throw new StagingException(failure + e, source, origin, target, e);
    } catch (RuntimeException e) {
      ContentTree.delete(partial, areaRoot);
      throw e;
    }
  }

  private Runnable deleter(Path target) {
    return () -> {
      try {
        ContentTree.delete(target, areaRoot);
      } catch (UncheckedIOException e) {
        LOG.log(System.Logger.Level.WARNING, () -> "cannot delete staged " + target, e);
      }
      release();
    };
  }

  /** Gives up one claim on the scope directory; the last one deletes it. */
  private void release() {
    if (pending.decrementAndGet() == 0) {
      try {
        ContentTree.delete(dir, areaRoot);
      } catch (UncheckedIOException e) {
        LOG.log(System.Logger.Level.WARNING, () -> "cannot delete staging scope " + dir, e);
      }
      drained.complete(null);
      onDrained.accept(this);
    }
  }

  private void requireOpen() {
    if (closed.get()) {
      throw new IllegalStateException("staging scope '" + name + "' is closed");
    }
  }

  private static List<String> holders(List<Staged> all) {
    List<String> holders = new ArrayList<>();
    all.forEach(s -> s.holders().forEach(h -> holders.add(h + " (" + s.source() + ")")));
    return holders;
  }

  private static void requireFileName(String name) {
    if (name == null || name.isBlank() || name.equals(".") || name.equals("..")
        || name.contains("/") || name.contains("\\") || name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a staged stream needs a plain file name, got '" + name + "'");
    }
  }

  private static URI streamUri(String fileName) {
    try {
      return new URI("stream", fileName, null);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("cannot name a stream '" + fileName + "'", e);
    }
  }

  static String slug(String text) {
    String slug = text.replaceAll("[^A-Za-z0-9._-]", "-");
    return slug.length() > 40 ? slug.substring(0, 40) : slug;
  }

  @Override
  public String toString() {
    return "StagingScope[" + name + (closed.get() ? ", closed]" : "]");
  }
}
