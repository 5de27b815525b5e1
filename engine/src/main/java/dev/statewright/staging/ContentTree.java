package dev.statewright.staging;

import dev.statewright.time.Scheduler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The file-system half of staging: copy a source tree owner-only, digesting what it writes as it
 * writes it (one pass over the content); digest a staged tree from disk ({@code verify()}); delete
 * one. Every walk, read and delete goes through a {@link SecureDirectoryStream}, relative to a
 * directory already open, never by a path the kernel resolves again: a directory swapped for a
 * link while we work is not followed (S5).
 *
 * <p>What the JDK offers no relative call for is done by path, and only inside the owner-only
 * staging root, which no other user can write: creating a directory or a link in the tree being
 * filled, and reading a link's target (the source entry was checked to be that link through its
 * open directory first).
 *
 * <p>Source files are opened on {@link Scheduler} tasks, one task for each run of up to
 * {@value #RUN} consecutive regular files of a directory, and each open is waited for up to a
 * bound: a FIFO swapped in between the check and the open blocks that task, never the stager,
 * which fails with {@link UnsafeSourceException}. What was opened is checked again: a pipe cannot
 * tell its position, and only as many bytes as the opened file had are read.
 */
final class ContentTree {
  private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_EXEC = PosixFilePermissions.fromString("rwx------");
  private static final Path SAME = Path.of(".");
  /** The most regular files of one directory opened by one task (and open at once). */
  static final int RUN = 64;
  private static final int BUFFER = 64 * 1024;
  private static final Set<OpenOption> READ = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
  private static final Set<OpenOption> CREATE = Set.of(StandardOpenOption.CREATE_NEW,
      StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);

  /** How source files are opened: on which scheduler, waiting how long. */
  record Opener(Scheduler scheduler, Duration bound) { }

  private ContentTree() { }

  // ---- copying a source tree -------------------------------------------------------------

  /**
   * Copies the tree at the real path {@code source} into the new directory {@code target} and
   * returns the digest of what it wrote: the bytes as they were written, the names, link targets
   * and modes as they are in the copy (the modes read back from it).
   */
  static String copy(Path source, Path target, Opener opener, URI uri, Path origin) throws IOException {
    createOwnerOnlyDirectory(target);
    ContentDigest digest = new ContentDigest();
    try (SecureDirectoryStream<Path> from = openReal(source);
         SecureDirectoryStream<Path> to = openReal(target)) {
      new SourceCopy(source, from, opener, uri, origin, digest, ByteBuffer.allocate(BUFFER))
          .directory(from, "", to, target);
    }
    return digest.value();
  }

  /**
   * One copy of a source tree, digested as it is written in the digest's order (pre-order, each
   * directory's entries sorted by name bytes); {@code root} is kept open for resolving links link
   * by link, {@code buffer} carries every file's bytes.
   */
  private record SourceCopy(Path rootPath, SecureDirectoryStream<Path> root, Opener opener, URI uri,
      Path origin, ContentDigest digest, ByteBuffer buffer) {

    /** An entry of a source directory as listed: its name, its path below the root, its type. */
    private record Entry(Path name, String child, BasicFileAttributes attrs) { }

    void directory(SecureDirectoryStream<Path> from, String relative, SecureDirectoryStream<Path> to,
        Path toPath) throws IOException {
      List<Entry> entries = entries(from, relative);
      for (int i = 0; i < entries.size(); ) {
        Entry entry = entries.get(i);
        if (entry.attrs().isRegularFile()) {
          i = files(from, entries, i, to);
          continue;
        }
        if (entry.attrs().isDirectory()) {
          subdirectory(from, entry, to, toPath);
        } else if (entry.attrs().isSymbolicLink()) {
          link(entry, toPath.resolve(entry.name()));
        } else {
          throw refused("special file " + entry.child() + " (not a regular file, directory or"
              + " symlink) cannot be staged");
        }
        i++;
      }
    }

    private List<Entry> entries(SecureDirectoryStream<Path> from, String relative) throws IOException {
      List<Entry> entries = new ArrayList<>();
      for (Path name : names(from)) {
        String child = join(relative, portableName(name, relative));
        entries.add(new Entry(name, child, attributes(from, name)));
      }
      return entries;
    }

    private void subdirectory(SecureDirectoryStream<Path> from, Entry entry,
        SecureDirectoryStream<Path> to, Path toPath) throws IOException {
      try (SecureDirectoryStream<Path> sub = openChild(from, entry.name(), entry.child());
           SecureDirectoryStream<Path> made = makeChild(to, toPath, entry.name())) {
        requireSame(sub, entry.attrs(), entry.child());
        digest.directory(entry.child(), mode(attributes(made)));
        directory(sub, entry.child(), made, toPath.resolve(entry.name()));
      }
    }

    private SecureDirectoryStream<Path> openChild(SecureDirectoryStream<Path> from, Path name,
        String child) {
      SecureDirectoryStream<Path> sub;
      try {
        sub = openDirectory(from, name);
      } catch (IOException e) {
        throw refused("directory " + child + " changed while it was copied (" + e + ")");
      }
      if (sub == null) {
        throw refused("directory " + child + " changed while it was copied (it is no longer a"
            + " directory)");
      }
      return sub;
    }

    /** Creates {@code name} in the tree being filled (by path: no mkdirat) and opens it relative. */
    private SecureDirectoryStream<Path> makeChild(SecureDirectoryStream<Path> to, Path toPath,
        Path name) throws IOException {
      createOwnerOnlyDirectory(toPath.resolve(name));
      return to.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
    }

    private void requireSame(SecureDirectoryStream<Path> opened, BasicFileAttributes seen,
        String child) throws IOException {
      BasicFileAttributes now = opened.getFileAttributeView(BasicFileAttributeView.class).readAttributes();
      if (!Objects.equals(now.fileKey(), seen.fileKey())) {
        throw refused("directory " + child + " was swapped while it was copied");
      }
    }

    private void link(Entry entry, Path to) throws IOException {
      Path target = Files.readSymbolicLink(rootPath.resolve(entry.child()));
      portableName(target, entry.child());
      LinkResolution.requireInside(root, rootPath, entry.child(), target, this::refused);
      Files.createSymbolicLink(to, target);
      digest.link(entry.child(), target.toString());
    }

    /**
     * Copies the run of regular files that starts at {@code entries[first]}, up to {@value #RUN}
     * of them, all opened on one scheduler task; returns the index after the run. What was opened
     * and not copied (the copy failed, or an open did not return in time) is closed, now or when
     * its open returns.
     */
    private int files(SecureDirectoryStream<Path> from, List<Entry> entries, int first,
        SecureDirectoryStream<Path> to) throws IOException {
      int end = first;
      while (end < entries.size() && end - first < RUN && entries.get(end).attrs().isRegularFile()) {
        end++;
      }
      List<Entry> run = entries.subList(first, end);
      List<CompletableFuture<SeekableByteChannel>> opened = open(from, run);
      int copied = 0;
      try {
        for (; copied < run.size(); copied++) {
          file(run.get(copied), awaitOpen(opened.get(copied), run.get(copied).child()), to);
        }
      } finally {
        for (int rest = copied; rest < run.size(); rest++) {
          opened.get(rest).thenAccept(ContentTree::closeQuietly); // if it ever opens, nobody reads it
        }
      }
      return end;
    }

    /**
     * Opens the files of {@code run}, in order, on one scheduler task, bounded: a FIFO swapped in
     * blocks that task, not us. The task opens through its own descriptor of the directory
     * (closing a stream waits for the opens in it), which it closes when its last open returns.
     */
    private List<CompletableFuture<SeekableByteChannel>> open(SecureDirectoryStream<Path> from,
        List<Entry> run) throws IOException {
      Path[] names = run.stream().map(Entry::name).toArray(Path[]::new);
      List<CompletableFuture<SeekableByteChannel>> opened = new ArrayList<>(names.length);
      for (int i = 0; i < names.length; i++) {
        opened.add(new CompletableFuture<>());
      }
      SecureDirectoryStream<Path> own = from.newDirectoryStream(SAME, LinkOption.NOFOLLOW_LINKS);
      try {
        opener.scheduler().execute(() -> openAll(own, names, opened));
      } catch (Throwable refused) { // the task will never run to close it
        closeQuietly(own);
        throw refused;
      }
      return opened;
    }

    private static void openAll(SecureDirectoryStream<Path> own, Path[] names,
        List<CompletableFuture<SeekableByteChannel>> opened) {
      try (own) {
        for (int i = 0; i < names.length; i++) {
          try {
            opened.get(i).complete(own.newByteChannel(names[i], READ));
          } catch (Throwable t) {
            opened.get(i).completeExceptionally(t);
          }
        }
      } catch (IOException closing) {
        // every open has returned; the descriptor goes whatever close() reports
      }
    }

    private SeekableByteChannel awaitOpen(CompletableFuture<SeekableByteChannel> opening,
        String child) throws IOException {
      try {
        return opening.get(opener.bound().toNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        throw refused(child + " did not open within " + opener.bound() + ": a FIFO or device"
            + " swapped in for a regular file");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while opening " + child, e);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
      }
    }

    /** Copies the opened file into {@code to} and digests it: the bytes written, the mode read back. */
    private void file(Entry entry, SeekableByteChannel opened, SecureDirectoryStream<Path> to)
        throws IOException {
      try (SeekableByteChannel in = opened) {
        requireSeekable(in, entry.child());
        long size = in.size();
        MessageDigest content = ContentDigest.sha256();
        long copied;
        try (SeekableByteChannel out = to.newByteChannel(entry.name(), CREATE,
            posix(rootPath) ? fileAttributes(isExecutable(entry.attrs())) : new FileAttribute<?>[0])) {
          copied = transfer(in, out, size, content);
        }
        digest.file(entry.child(), mode(attributes(to, entry.name())), copied, content.digest());
      }
    }

    /** Copies at most {@code size} bytes, digesting them; returns how many there were. */
    private long transfer(SeekableByteChannel in, SeekableByteChannel out, long size,
        MessageDigest content) throws IOException {
      long left = size;
      while (left > 0) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), left));
        int n = in.read(buffer);
        if (n < 0) {
          break; // shrank while we read: the digest records what was copied
        }
        content.update(buffer.array(), 0, n);
        left -= n;
        buffer.flip();
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
      }
      return size - left;
    }

    private void requireSeekable(SeekableByteChannel in, String child) {
      try {
        in.position();
      } catch (IOException pipe) {
        throw refused("special file " + child + " (a pipe swapped in for a regular file) cannot be"
            + " staged");
      }
    }

    UnsafeSourceException refused(String problem) {
      return new UnsafeSourceException(problem, uri, origin);
    }

    private String portableName(Path name, String parent) {
      if (!name.getFileSystem().getPath(name.toString()).equals(name)) {
        throw refused("the name of " + join(parent, name.toString()) + " is not valid in the"
            + " platform's file-name encoding, so it cannot be staged byte for byte");
      }
      return name.toString();
    }
  }

  private static boolean isExecutable(BasicFileAttributes attrs) {
    return attrs instanceof PosixFileAttributes posix
        && posix.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
  }

  // ---- streams ---------------------------------------------------------------------------

  /** Writes {@code in}, at most {@code limit} bytes of it, to the new file {@code file}. */
  static void copyStream(InputStream in, Path file, long limit, URI source) throws IOException {
    long written = 0;
    byte[] buffer = new byte[64 * 1024];
    try (OutputStream out = newOwnerOnlyFile(file, false)) {
      for (int n; (n = in.read(buffer, 0, ask(buffer.length, limit - written))) > 0; ) {
        written += n;
        if (written > limit) {
          throw new StagingLimitExceededException(source, limit);
        }
        out.write(buffer, 0, n);
      }
    }
  }

  /** How much to read next: up to one byte past the limit, so exceeding it is noticed. */
  private static int ask(int buffer, long remaining) {
    return remaining >= buffer ? buffer : (int) remaining + 1;
  }

  // ---- digest ----------------------------------------------------------------------------

  /** The digest of a staged tree, computed from disk through open directories. */
  static String digest(Path stagedRoot) throws IOException {
    ContentDigest digest = new ContentDigest();
    Deque<Digesting> open = new ArrayDeque<>();
    try {
      open.push(digesting(openReal(stagedRoot), stagedRoot, ""));
      while (!open.isEmpty()) { // pre-order on a stack of our own: a tree of any depth fits
        Digesting top = open.peek();
        if (!top.names().hasNext()) {
          open.pop().dir().close();
          continue;
        }
        Path name = top.names().next();
        SecureDirectoryStream<Path> sub = digest(top, name, digest);
        if (sub != null) {
          open.push(digesting(sub, top.dirPath().resolve(name), join(top.relative(), name.toString())));
        }
      }
    } finally {
      open.forEach(level -> closeQuietly(level.dir()));
    }
    return digest.value();
  }

  /** A directory being digested: itself, its path and its path below the root, the names left. */
  private record Digesting(SecureDirectoryStream<Path> dir, Path dirPath, String relative,
      Iterator<Path> names) { }

  private static Digesting digesting(SecureDirectoryStream<Path> dir, Path dirPath, String relative) {
    try {
      return new Digesting(dir, dirPath, relative, names(dir).iterator());
    } catch (RuntimeException e) {
      closeQuietly(dir);
      throw e;
    }
  }

  /** Digests the entry {@code name} of {@code at}; returns it opened if it is a directory. */
  private static SecureDirectoryStream<Path> digest(Digesting at, Path name, ContentDigest digest)
      throws IOException {
    SecureDirectoryStream<Path> dir = at.dir();
    String child = join(at.relative(), name.toString());
    BasicFileAttributes attrs = attributes(dir, name);
    int mode = mode(attrs);
    if (attrs.isDirectory()) {
      digest.directory(child, mode);
      return dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
    } else if (attrs.isSymbolicLink()) {
      digest.link(child, Files.readSymbolicLink(at.dirPath().resolve(name)).toString());
    } else if (!attrs.isRegularFile()) {
      digest.special(child);
    } else {
      try (InputStream in = Channels.newInputStream(dir.newByteChannel(name, READ))) {
        digest.file(child, mode, in);
      }
    }
    return null;
  }

  /** The permission bits of {@code attrs}, as the digest records them; 0 without POSIX permissions. */
  private static int mode(BasicFileAttributes attrs) {
    int mode = 0;
    if (attrs instanceof PosixFileAttributes posix) {
      for (PosixFilePermission p : posix.permissions()) {
        mode |= 1 << (8 - p.ordinal());
      }
    }
    return mode;
  }

  // ---- deleting --------------------------------------------------------------------------

  /**
   * Deletes {@code target} and everything below it, links as links, walking down from
   * {@code area} through open directories; refuses anything not strictly inside {@code area}.
   */
  static void delete(Path target, Path area) {
    Path relative = strictlyInside(target, area);
    try (SecureDirectoryStream<Path> root = openReal(area)) {
      deleteBelow(root, relative);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + target, e);
    }
  }

  private static Path strictlyInside(Path target, Path area) {
    Path normal = target.normalize();
    if (!normal.startsWith(area) || normal.equals(area)) {
      throw new IllegalStateException("refusing to delete " + target + ": not inside " + area);
    }
    return area.relativize(normal);
  }

  private static void deleteBelow(SecureDirectoryStream<Path> dir, Path relative) throws IOException {
    Path first = relative.getName(0);
    if (relative.getNameCount() == 1) {
      deleteEntry(dir, first);
      return;
    }
    try (SecureDirectoryStream<Path> sub = openDirectory(dir, first)) {
      if (sub != null) { // else a link or a special file took its place: nothing of ours below
        deleteBelow(sub, relative.subpath(1, relative.getNameCount()));
      }
    } catch (NoSuchFileException gone) {
      // nothing there to delete
    }
  }

  /**
   * Deletes the entry {@code name} of {@code dir}: a directory's content first, a link as a link.
   * Depth first with the directories being emptied on a stack of our own, not the Java stack: a
   * target can make a staged tree thousands of levels deep (by renames, so no path is long), and
   * each level holds only its descriptor and its names until it is empty.
   */
  private static void deleteEntry(SecureDirectoryStream<Path> dir, Path name) throws IOException {
    Deque<Emptying> open = new ArrayDeque<>();
    try {
      enter(dir, name, open);
      while (!open.isEmpty()) {
        Emptying top = open.peek();
        if (top.children().hasNext()) {
          enter(top.dir(), top.children().next(), open);
        } else {
          open.pop().dir().close();
          top.parent().deleteDirectory(top.name());
        }
      }
    } finally {
      open.forEach(level -> closeQuietly(level.dir()));
    }
  }

  /** A directory being emptied: the directory it is in, its name there, itself, what is left in it. */
  private record Emptying(SecureDirectoryStream<Path> parent, Path name, SecureDirectoryStream<Path> dir,
      Iterator<Path> children) { }

  /** Deletes the entry {@code name} of {@code dir} if it is no directory, else opens it to empty. */
  private static void enter(SecureDirectoryStream<Path> dir, Path name, Deque<Emptying> open)
      throws IOException {
    BasicFileAttributes attrs;
    try {
      attrs = attributes(dir, name);
    } catch (NoSuchFileException gone) {
      return;
    }
    SecureDirectoryStream<Path> sub = attrs.isDirectory() ? openToEmpty(dir, name) : null;
    if (sub == null) {
      dir.deleteFile(name);
      return;
    }
    List<Path> children;
    try {
      children = names(sub);
    } catch (RuntimeException e) {
      closeQuietly(sub);
      throw e;
    }
    open.push(new Emptying(dir, name, sub, children.iterator()));
  }

  /** Opens the directory {@code name} to empty it; null if it is no longer one (swapped for a link). */
  private static SecureDirectoryStream<Path> openToEmpty(SecureDirectoryStream<Path> dir, Path name)
      throws IOException {
    try {
      return openDirectory(dir, name);
    } catch (IOException notADirectoryAnyMore) {
      if (attributes(dir, name).isDirectory()) {
        throw notADirectoryAnyMore;
      }
      return null;
    }
  }

  // ---- creating --------------------------------------------------------------------------

  static void createOwnerOnlyDirectory(Path dir) throws IOException {
    if (posix(dir)) {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
    } else {
      Files.createDirectory(dir);
    }
  }

  static OutputStream newOwnerOnlyFile(Path file, boolean executable) throws IOException {
    return Channels.newOutputStream(Files.newByteChannel(file, CREATE,
        posix(file) ? fileAttributes(executable) : new FileAttribute<?>[0]));
  }

  private static FileAttribute<?>[] fileAttributes(boolean executable) {
    return new FileAttribute<?>[] {
        PosixFilePermissions.asFileAttribute(executable ? OWNER_EXEC : OWNER_FILE)};
  }

  static boolean posix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  // ---- open directories ------------------------------------------------------------------

  /**
   * Opens the directory at a real path as a secure stream, walking down from the file-system root
   * one name at a time without following a link: a component swapped for a link since the path
   * was found real fails the open instead of leading elsewhere. Refuses to go on where the
   * platform has no secure directory stream, rather than work by path.
   */
  static SecureDirectoryStream<Path> openReal(Path dir) throws IOException {
    Path absolute = dir.toAbsolutePath();
    SecureDirectoryStream<Path> at = secure(Files.newDirectoryStream(absolute.getRoot()), dir);
    for (Path name : absolute) {
      SecureDirectoryStream<Path> next;
      try {
        next = openDirectory(at, name);
      } finally {
        at.close();
      }
      if (next == null) {
        throw new FileSystemException(dir.toString(), null, "its component " + name
            + " is no longer a directory (a link or a special file took its place)");
      }
      at = next;
    }
    return at;
  }

  private static SecureDirectoryStream<Path> secure(DirectoryStream<Path> stream, Path dir)
      throws IOException {
    if (stream instanceof SecureDirectoryStream<Path> secure) {
      return secure;
    }
    stream.close();
    throw new UnsupportedOperationException("staging needs a file system with secure directory"
        + " streams (openat, unlinkat) to stay confined to " + dir + "; this one has none");
  }

  /**
   * Opens the entry {@code name} of {@code dir} as a directory, not following a link; null if it
   * is not one. Its type is read first: opening a FIFO would block until a writer came.
   */
  static SecureDirectoryStream<Path> openDirectory(SecureDirectoryStream<Path> dir, Path name)
      throws IOException {
    if (!attributes(dir, name).isDirectory()) {
      return null;
    }
    return dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * The attributes of the entry {@code name} of {@code dir}, not following a link: its POSIX
   * attributes where there are any (type and permissions in one {@code fstatat}), else its basic.
   */
  static BasicFileAttributes attributes(SecureDirectoryStream<Path> dir, Path name) throws IOException {
    PosixFileAttributeView posix = dir.getFileAttributeView(name, PosixFileAttributeView.class,
        LinkOption.NOFOLLOW_LINKS);
    return posix != null ? posix.readAttributes()
        : dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .readAttributes();
  }

  /** The attributes of the open directory {@code dir} itself, as {@link #attributes(SecureDirectoryStream, Path)}. */
  static BasicFileAttributes attributes(SecureDirectoryStream<Path> dir) throws IOException {
    PosixFileAttributeView posix = dir.getFileAttributeView(PosixFileAttributeView.class);
    return posix != null ? posix.readAttributes()
        : dir.getFileAttributeView(BasicFileAttributeView.class).readAttributes();
  }

  /** The entry names of {@code dir}, sorted by their bytes (unsigned), as file names. */
  static List<Path> names(SecureDirectoryStream<Path> dir) {
    List<Path> names = new ArrayList<>();
    dir.forEach(entry -> names.add(entry.getFileName()));
    names.sort(ContentDigest.BY_NAME_BYTES);
    return names;
  }

  private static String join(String parent, String name) {
    return parent.isEmpty() ? name : parent + "/" + name;
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception ignored) {
      // nothing read from it
    }
  }
}
