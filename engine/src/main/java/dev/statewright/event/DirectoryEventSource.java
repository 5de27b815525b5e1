package dev.statewright.event;

import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * One spec file per key in a folder: {@code redis.properties} is key {@code redis}. A
 * {@link WatchService} reports changes as they happen, and a full rescan every
 * {@code resyncInterval} (also run on {@code OVERFLOW}) catches whatever the watcher missed.
 *
 * <p>Each change of a file's bytes gets the next version of this source, so versions grow for as
 * long as the source lives. A file that fails to parse is {@linkplain EventSink#reject rejected}:
 * its key keeps its last good spec, and the source carries on. Other files in the folder (a token
 * a spec refers to, say) are dependencies: a change to one is delivered as
 * {@link EventSink#dependencyChanged} with the file's name. A folder that vanishes is logged and
 * its keys are kept until it comes back.
 *
 * <p>Progress: after each scan the source reports {@linkplain EventSink#progress progress} at its
 * last version, since a scan delivers every change it found. {@link #currentVersion()} scans now,
 * so a consistent read reflects every file written before it.
 *
 * @param <S> the spec type
 */
public final class DirectoryEventSource<S> implements EventSource<String, S> {
  /*
   * Concurrency: the watch loop and the resync timer both call rescan(), which is synchronized on
   * this: a scan sees and updates `known` and `dependencies` as one step. `watcher`, `timer` and
   * `closed` are volatile for close(), which never takes the lock, so it cannot wait on a scan.
   */

  /**
   * Turns a spec file's bytes into a spec; throw to reject the file.
   *
   * @param <S> the spec type
   */
  @FunctionalInterface
  public interface SpecParser<S> {
    /**
     * The spec in {@code file}, whose content is {@code bytes}.
     *
     * @param file the path of the spec file, inside the watched folder
     * @param bytes the file's whole content, as read for this change
     * @return the spec; must not be null
     * @throws Exception if the content is not a valid spec: the file is rejected and its key
     *     keeps its last good spec
     */
    S parse(Path file, byte[] bytes) throws Exception;
  }

  private static final System.Logger LOG = System.getLogger(DirectoryEventSource.class.getName());

  private final Path directory;
  private final String suffix;
  private final SpecParser<S> parser;
  private final Duration resyncInterval;
  private final Scheduler scheduler;
  private final Map<String, Seen<S>> known = new HashMap<>(); // guarded by this
  private final Map<String, byte[]> dependencies = new HashMap<>(); // guarded by this
  private long lastVersion; // guarded by this
  private boolean directoryMissing; // guarded by this
  private volatile EventSink<String, S> sink;
  private volatile WatchService watcher;
  private volatile Scheduler.Cancellable timer = () -> { };
  private volatile boolean closed;

  /** What a key's file held when last read, and the spec it last parsed to. */
  private record Seen<S>(byte[] bytes, Versioned<S> good) { }

  private DirectoryEventSource(Path directory, String suffix, SpecParser<S> parser,
      Duration resyncInterval, Scheduler scheduler) {
    this.directory = directory;
    this.suffix = suffix;
    this.parser = parser;
    this.resyncInterval = resyncInterval;
    this.scheduler = scheduler;
  }

  /**
   * Watches {@code directory} for files ending in {@code suffix}, parsed by {@code parser}, with a
   * full rescan every {@code resyncInterval}.
   *
   * @param <S> the spec type
   * @param directory the folder to watch; it must exist when the source starts
   * @param suffix the file-name ending that marks a spec file (as {@code ".properties"}); the key
   *     is the file name without it; must not be empty
   * @param parser turns a spec file's bytes into a spec
   * @param resyncInterval the time between full rescans; positive
   * @param scheduler runs the watch loop and times the rescans
   * @return a source that watches once started
   * @throws NullPointerException if {@code directory}, {@code parser}, {@code resyncInterval} or
   *     {@code scheduler} is null
   * @throws IllegalArgumentException if {@code resyncInterval} is not positive or {@code suffix}
   *     is null or empty
   */
  public static <S> DirectoryEventSource<S> of(Path directory, String suffix, SpecParser<S> parser,
      Duration resyncInterval, Scheduler scheduler) {
    Objects.requireNonNull(resyncInterval, "resyncInterval");
    if (resyncInterval.isNegative() || resyncInterval.isZero()) {
      throw new IllegalArgumentException("resyncInterval must be positive, got " + resyncInterval);
    }
    if (suffix == null || suffix.isEmpty()) {
      throw new IllegalArgumentException("suffix must not be empty");
    }
    return new DirectoryEventSource<>(Objects.requireNonNull(directory, "directory"), suffix,
        Objects.requireNonNull(parser, "parser"), resyncInterval,
        Objects.requireNonNull(scheduler, "scheduler"));
  }

  /**
   * Scans the folder (delivering a {@code resync}), then watches it.
   *
   * @throws IllegalStateException if the folder cannot be watched; the cache retries with backoff
   */
  @Override
  public void start(EventSink<String, S> sink) {
    if (this.sink != null) {
      throw new IllegalStateException(this + " is already started");
    }
    WatchService service = register();
    this.sink = Objects.requireNonNull(sink, "sink");
    this.watcher = service;
    rescan(true);
    scheduler.execute(() -> watch(service));
    timer = scheduler.schedule(this::periodicResync, resyncInterval);
  }

  @Override
  public void close() {
    closed = true;
    timer.cancel();
    WatchService service = watcher;
    if (service != null) {
      closeQuietly(service);
    }
  }

  private void closeQuietly(WatchService service) {
    try {
      service.close();
    } catch (IOException e) { // nothing to do about it: the service is dropped either way
      LOG.log(System.Logger.Level.DEBUG, this + ": closing a watcher failed", e);
    }
  }

  private WatchService register() {
    try {
      WatchService service = directory.getFileSystem().newWatchService();
      try {
        directory.register(service, StandardWatchEventKinds.ENTRY_CREATE,
            StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY);
      } catch (IOException | RuntimeException e) {
        service.close();
        throw e;
      }
      return service;
    } catch (IOException e) {
      throw new IllegalStateException(this + ": cannot watch " + directory + ": " + e, e);
    }
  }

  private void watch(WatchService service) {
    try {
      while (!closed) {
        WatchKey key = service.take();
        key.pollEvents(); // the events only say "look again": rescan() reads the truth
        rescan(false);
        if (!key.reset()) {
          return; // the folder is gone; periodic resync re-registers when it comes back
        }
      }
    } catch (ClosedWatchServiceException | InterruptedException stopped) {
      // closed, or the pool is shutting down
    }
  }

  private void periodicResync() {
    if (closed) {
      return;
    }
    if (rescan(true)) {
      reregisterIfNeeded();
    }
    timer = scheduler.schedule(this::periodicResync, resyncInterval);
  }

  private void reregisterIfNeeded() {
    WatchService old = watcher;
    if (closed || old == null) {
      return;
    }
    closeQuietly(old);
    WatchService service = register();
    watcher = service;
    scheduler.execute(() -> watch(service));
  }

  /**
   * Reads the folder and delivers what changed, plus a full {@code resync} if asked.
   *
   * @return whether the folder came back after being missing
   */
  private synchronized boolean rescan(boolean resync) {
    if (closed) {
      return false;
    }
    Map<String, byte[]> files;
    try {
      files = readFolder();
    } catch (IOException e) {
      if (!directoryMissing) { // once per absence; the message is built only then
        LOG.log(System.Logger.Level.WARNING, this + ": cannot read " + directory + " (" + e
            + "); keeping the " + known.size() + " keys it had until it comes back");
      }
      directoryMissing = true;
      return false;
    }
    boolean cameBack = directoryMissing;
    directoryMissing = false;
    files.forEach(this::fileSeen);
    for (String key : new HashSet<>(known.keySet())) {
      if (!files.containsKey(key + suffix)) {
        known.remove(key);
        sink.delete(key, ++lastVersion);
      }
    }
    if (resync) {
      Map<String, Versioned<S>> all = new HashMap<>();
      known.forEach((key, seen) -> {
        if (seen.good() != null) {
          all.put(key, seen.good());
        }
      });
      sink.resync(all, lastVersion);
    }
    sink.progress(lastVersion);
    return cameBack;
  }

  /**
   * Whether this source reports progress: every scan does.
   *
   * @return true
   */
  @Override
  public boolean reportsProgress() {
    return true;
  }

  /**
   * Scans the folder now, on the scheduler, and completes with the version after it: every file
   * written before this call has been delivered by then.
   *
   * @return completes with the source's version after the scan
   */
  @Override
  public CompletableFuture<Long> currentVersion() {
    if (sink == null) {
      return CompletableFuture.failedFuture(new IllegalStateException(this + " is not started"));
    }
    return CompletableFuture.supplyAsync(this::scanNow, scheduler::execute);
  }

  private synchronized long scanNow() {
    rescan(false);
    return lastVersion;
  }

  private void fileSeen(String fileName, byte[] bytes) {
    if (!fileName.endsWith(suffix)) {
      byte[] before = dependencies.put(fileName, bytes);
      if (before != null && !Arrays.equals(before, bytes)) {
        sink.dependencyChanged(fileName);
      }
      return;
    }
    String key = fileName.substring(0, fileName.length() - suffix.length());
    Seen<S> before = known.get(key);
    if (before != null && Arrays.equals(before.bytes(), bytes)) {
      return;
    }
    Versioned<S> good = before == null ? null : before.good();
    try {
      S spec = Objects.requireNonNull(parser.parse(directory.resolve(fileName), bytes),
          "the parser returned null");
      good = Versioned.of(spec, ++lastVersion);
      sink.upsert(key, spec, good.version());
    } catch (Throwable t) { // any Throwable, an Error included: a bad file never stops the source
      sink.reject(key, new IllegalArgumentException(
          "cannot parse " + directory.resolve(fileName) + ": " + t.getMessage(), t));
    }
    known.put(key, new Seen<>(bytes, good));
  }

  private Map<String, byte[]> readFolder() throws IOException {
    Map<String, byte[]> files = new HashMap<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path file : entries) {
        if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
          try {
            files.put(file.getFileName().toString(), Files.readAllBytes(file));
          } catch (IOException vanished) {
            // deleted between listing and reading: the next scan sees it gone
          }
        }
      }
    }
    return files;
  }

  @Override
  public String toString() {
    return "DirectoryEventSource[" + directory + ", *" + suffix + "]";
  }
}
