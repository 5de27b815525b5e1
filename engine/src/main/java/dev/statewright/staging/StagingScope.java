package dev.statewright.staging;

import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.io.InputStream;
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
 * of any {@code stageDirectory} call that returns the same item; a stage that returns
 * <i>happens-before</i> the drain of the scope that deletes what it staged.
 */
public final class StagingScope implements AutoCloseable {
  /*
   * Overview: `state` packs the scope's lifecycle bits and its claims. A claim is held by each
   * stage in progress and by each staged item until it is deleted; the scope itself holds one
   * until close(). Whoever gives up the last claim of a closed scope drains it: deletes the
   * directory, drops the owner lock, completes `drained`, runs the callback. So the directory
   * outlives every item and every stager.
   *
   * Concurrency (as Phaser's arrive): a stager claims first, then looks at CLOSED in the value it
   * replaced, and undoes its claim if the scope was closed. close() sets CLOSED and gives up the
   * scope's claim. No stage can slip between a check and its claim, and the CAS to DRAINED makes
   * the drain happen exactly once even when a refused stager's claim and undo land after it.
   *
   * Transitions (bits of `state`, in order of progress; DRAINED terminal):
   *   OPEN -> CLOSED (close()) -> CLOSED|DRAINED (last claim given up)
   *
   * File order: staging API, queries, close, claims, the staging machinery, helpers.
   */
  private static final System.Logger LOG = System.getLogger(StagingScope.class.getName());
  private static final int CLOSED = 1 << 30;
  private static final int DRAINED = 1 << 29;
  private static final int CLAIMS = DRAINED - 1;

  private final String name;
  private final Path dir;
  private final Path areaRoot;
  private final Scheduler scheduler;
  private final Duration grace;
  private final ContentTree.Opener opener;
  private final ScopeLock lock;
  private final Consumer<StagingScope> onDrained;
  private final AtomicInteger sequence = new AtomicInteger();
  private final ConcurrentHashMap<Object, CompletableFuture<Staged>> items = new ConcurrentHashMap<>();
  private final AtomicInteger state = new AtomicInteger(1); // OPEN, the scope's own claim
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  private volatile List<String> lingering = List.of();

  StagingScope(String name, Path dir, Path areaRoot, Scheduler scheduler, Duration grace,
      ContentTree.Opener opener, ScopeLock lock, Consumer<StagingScope> onDrained) {
    this.name = name;
    this.dir = dir;
    this.areaRoot = areaRoot;
    this.scheduler = scheduler;
    this.grace = grace;
    this.opener = opener;
    this.lock = lock;
    this.onDrained = onDrained;
  }

  /**
   * Stages the directory {@code source} names: {@code file://./m} or {@code file://../m}
   * relative to the directory of {@code origin} (the bundle file), or {@code file:///abs/m}.
   * The copy is made under a partial name and renamed into place, so no one sees half a tree.
   * Staging the same directory again in this scope returns the same {@link Staged}.
   *
   * @param source the directory to stage, as a {@code file:} URI
   * @param origin the bundle file relative sources are resolved against; may be null for an
   *     absolute source
   * @return the staged copy, shared by every target of the run
   * @throws UnresolvableSourceException for another scheme or form, or a relative source
   *     without an origin
   * @throws SourceNotFoundException if the directory does not exist
   * @throws UnsafeSourceException for an escape, an escaping symlink, a special file, or a source
   *     that holds the staging root (its copy would be copied into itself)
   * @throws IllegalStateException if the scope is closed
   */
  public Staged stageDirectory(URI source, Path origin) {
    Objects.requireNonNull(source, "source");
    claim();
    Path real;
    try {
      real = SourceLocator.locate(source, origin);
      requireOutsideItsCopy(real, source, origin);
    } catch (Throwable t) {
      release();
      throw t;
    }
    return once(real, () -> copyDirectory(source, origin, real));
  }

  /**
   * Stages the bytes of {@code in} (read once, here) as a file named {@code name}, reusable by
   * every target; a lease yields the file itself.
   *
   * @param name the staged file's name: a plain file name, no separator, not {@code .} or
   *     {@code ..}
   * @param in the bytes to stage, read to the end here; the caller closes it
   * @param maxBytes the most bytes to accept; zero or more
   * @return the staged file, shared by every target of the run
   * @throws IllegalArgumentException if {@code name} is not a plain file name or {@code maxBytes}
   *     is negative
   * @throws StagingLimitExceededException if the stream holds more than {@code maxBytes}
   * @throws IllegalStateException if the scope is closed
   */
  public Staged stageStream(String name, InputStream in, long maxBytes) {
    requireFileName(name);
    Objects.requireNonNull(in, "in");
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must be >= 0, got " + maxBytes);
    }
    claim();
    return once(new Object(), () -> copyStream(name, in, maxBytes));
  }

  /**
   * What this scope has staged so far.
   *
   * @return a new list of the items staged successfully, in no particular order; items still
   *     being copied, or that failed, are left out
   */
  public List<Staged> staged() {
    List<Staged> all = new ArrayList<>();
    items.values().forEach(f -> {
      if (f.isDone() && !f.isCompletedExceptionally()) {
        all.add(f.join());
      }
    });
    return all;
  }

  /**
   * The scope's name, as given.
   *
   * @return the name given to {@code newScope}
   */
  public String name() {
    return name;
  }

  /**
   * The scope's own directory under the staging root.
   *
   * @return the directory, named after the process and scope; deleted once the scope is closed
   *     and its last lease has closed
   */
  public Path directory() {
    return dir;
  }

  /**
   * Holders whose leases were still open when the grace period after close ran out.
   *
   * @return the holders' names; empty before close, or if every lease closed within the grace
   */
  public List<String> lingering() {
    return lingering;
  }

  /**
   * Retires everything staged, then waits up to the grace period for open leases to close,
   * logging their holders by name. Idempotent.
   */
  @Override
  public void close() {
    if ((state.getAndUpdate(s -> s | CLOSED) & CLOSED) != 0) {
      return;
    }
    List<Staged> all = staged();
    all.forEach(Staged::retire);
    release();
    if (!drained.isDone()) {
      awaitLeases(all);
    }
  }

  private void awaitLeases(List<Staged> all) {
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

  // ---- claims ----------------------------------------------------------------------------

  /** Claims the scope for one stage; refused, the claim undone, if the scope is closed. */
  private void claim() {
    if ((state.getAndIncrement() & CLOSED) != 0) {
      release();
      throw new IllegalStateException("staging scope '" + name + "' is closed");
    }
  }

  /** Gives up one claim; the last one of a closed scope drains it. */
  private void release() {
    int now = state.decrementAndGet();
    assert (now & CLAIMS) != CLAIMS : "more releases than claims";
    if (now == CLOSED && state.compareAndSet(CLOSED, CLOSED | DRAINED)) {
      drain();
    }
  }

  private void drain() {
    try {
      ContentTree.delete(dir, areaRoot);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, () -> "cannot delete staging scope " + dir, e);
    } finally {
      lock.close();
      drained.complete(null);
      onDrained.accept(this);
    }
  }

  // ---- staging ---------------------------------------------------------------------------

  /** Stages once per key, holding the caller's claim: kept by the item, or given up on failure. */
  private Staged once(Object key, Supplier<Staged> stage) {
    CompletableFuture<Staged> mine = new CompletableFuture<>();
    CompletableFuture<Staged> existing = items.putIfAbsent(key, mine);
    if (existing != null) {
      release();
      return joinExisting(existing);
    }
    try {
      Staged staged = stage.get();
      mine.complete(staged);
      if ((state.get() & CLOSED) != 0) {
        staged.retire(); // the scope closed while we copied
      }
      return staged;
    } catch (Throwable t) {
      items.remove(key, mine);
      mine.completeExceptionally(t);
      release();
      throw t;
    }
  }

  private static Staged joinExisting(CompletableFuture<Staged> existing) {
    try {
      return existing.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  private Staged copyDirectory(URI source, Path origin, Path real) {
    String name = slug(real.getFileName() == null ? "root" : real.getFileName().toString());
    return stageAtomically(name, "cannot stage: ", source, origin,
        partial -> ContentTree.copy(real, partial, opener, source, origin),
        target -> target);
  }

  private Staged copyStream(String fileName, InputStream in, long maxBytes) {
    URI source = streamUri(fileName);
    return stageAtomically("stream", "cannot stage stream: ", source, null, partial -> {
      ContentTree.createOwnerOnlyDirectory(partial);
      ContentTree.copyStream(in, partial.resolve(fileName), maxBytes, source);
      return ContentTree.digest(partial);
    }, target -> target.resolve(fileName));
  }

  /** Fills a new directory under a partial name and returns the digest of what it holds. */
  @FunctionalInterface
  private interface Fill {
    String into(Path partial) throws IOException;
  }

  /**
   * Fills and digests {@code partial-N}, then renames it to {@code N-name}: nobody sees half a tree
   * (S4). On any failure, an {@link Error} included, the partial tree is deleted. {@code leased}
   * is what a lease hands out.
   */
  private Staged stageAtomically(String name, String failure, URI source, Path origin, Fill fill,
      UnaryOperator<Path> leased) {
    int n = sequence.incrementAndGet();
    Path partial = dir.resolve("partial-" + n);
    Path target = dir.resolve(n + "-" + name);
    try {
      String digest = fill.into(partial);
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      return new Staged(source, origin, target, leased.apply(target), digest, scheduler,
          deleter(target));
    } catch (IOException e) {
      deletePartial(partial, e);
      throw new StagingException(failure + e, source, origin, target, e);
    } catch (Throwable t) {
      deletePartial(partial, t);
      throw t;
    }
  }

  private void deletePartial(Path partial, Throwable cause) {
    try {
      ContentTree.delete(partial, areaRoot);
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  private Runnable deleter(Path target) {
    return () -> {
      try {
        ContentTree.delete(target, areaRoot);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, () -> "cannot delete staged " + target, e);
      } finally {
        release(); // an Error too gives the claim back, so the scope still drains
      }
    };
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** Refuses a source that holds this scope's directory: its copy would be copied into itself. */
  private void requireOutsideItsCopy(Path real, URI source, Path origin) {
    if (dir.startsWith(real)) {
      throw new UnsafeSourceException("source " + real + " holds this run's directory " + dir
          + " in the staging root " + areaRoot + ", so its copy would be copied into itself; put"
          + " the staging root outside what you stage", source, origin);
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
    return "StagingScope[" + name + ((state.get() & CLOSED) != 0 ? ", closed]" : "]");
  }
}
