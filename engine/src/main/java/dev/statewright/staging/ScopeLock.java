package dev.statewright.staging;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A live scope's claim on its directory: an exclusive lock ({@link FileChannel#lock()}) on the
 * file {@code owner} inside it, held for as long as the scope lives (S6). The kernel drops the
 * lock when the owning process dies, in whatever PID namespace it ran, so a sweeper that can take
 * the lock knows the owner is gone; pid and start time are written into the file as a label only.
 *
 * <p>The file is created as {@code owner.new}, locked, then renamed to {@code owner}: a sweeper
 * never finds an {@code owner} that is not yet locked. A directory without {@code owner} was left
 * by a creator that died between {@code mkdir} and the rename, or belongs to one still there: a
 * sweeper removes it if it is empty ({@code rmdir}, which fails once anything is in it) or if it
 * can take the lock of its {@code owner.new}. A creator whose half-made directory was removed so
 * fails with {@link NoSuchFileException} (the open, or the rename, finds nothing) and claims a
 * new directory under the next name; it never recreates what a sweeper removed.
 *
 * <p>POSIX locks belong to the process, and closing any channel on the file drops them all, so
 * this JVM never opens the owner file of a scope it holds: {@link #HELD} says which those are.
 */
final class ScopeLock implements AutoCloseable {
  static final String OWNER = "owner";
  static final String OWNER_NEW = OWNER + ".new";
  static final int ATTEMPTS = 3;
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final FileChannel channel;

  private ScopeLock(Path dir, FileChannel channel) {
    this.dir = dir;
    this.channel = channel;
  }

  /**
   * Creates a new scope directory, named by {@code names} (a fresh name on each call), and locks
   * its owner file, labelled {@code label}. A claim whose directory a sweeper of another process
   * removed midway is made again under the next name, up to {@value #ATTEMPTS} times in all.
   * {@code midway} runs between the {@code mkdir} and the owner file: the window in which such a
   * sweeper may act (tests act there; production passes nothing to do).
   */
  static ScopeLock claim(Supplier<Path> names, String label, Consumer<Path> midway)
      throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return claimAt(names.get(), label, midway);
      } catch (NoSuchFileException swept) {
        if (attempt == ATTEMPTS) {
          throw swept;
        }
      }
    }
  }

  private static ScopeLock claimAt(Path dir, String label, Consumer<Path> midway)
      throws IOException {
    if (!HELD.add(dir)) { // from here on, this JVM's sweeps never open this scope's owner files
      throw new FileAlreadyExistsException(dir.toString(), null, "a scope of this JVM has it");
    }
    FileChannel channel = null;
    try {
      ContentTree.createOwnerOnlyDirectory(dir);
      midway.accept(dir);
      Path fresh = dir.resolve(OWNER_NEW);
      channel = ContentTree.posix(dir)
          ? FileChannel.open(fresh, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
              LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(
                  PosixFilePermissions.fromString("rw-------")))
          : FileChannel.open(fresh, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      channel.lock();
      channel.write(ByteBuffer.wrap(label.getBytes(StandardCharsets.UTF_8)));
      Files.move(fresh, dir.resolve(OWNER), StandardCopyOption.ATOMIC_MOVE);
      return new ScopeLock(dir, channel);
    } catch (IOException | RuntimeException e) {
      HELD.remove(dir); // what is left, the next open sweeps: nobody holds its owner.new
      if (channel != null) {
        channel.close();
      }
      throw e;
    }
  }

  /**
   * Runs {@code remove} on the scope directory {@code dir} if its owner is gone (its owner file's
   * lock can be taken), holding that lock meanwhile.
   */
  static void removeIfAbandoned(Path dir, Consumer<Path> remove) throws IOException {
    if (isHeld(dir)) {
      return;
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(dir.resolve(OWNER), StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException unclaimed) {
      removeIfUnfinished(dir, remove);
      return;
    }
    removeIfUnlocked(channel, dir, remove);
  }

  /**
   * A directory without {@code owner}: its creator died before the rename, or is midway now. An
   * empty one goes by {@code rmdir} alone, which fails if the creator has meanwhile made its
   * {@code owner.new}; otherwise it goes if that file's lock can be taken (a creator not yet
   * locked then waits for us and finds its directory gone).
   */
  private static void removeIfUnfinished(Path dir, Consumer<Path> remove) throws IOException {
    FileChannel channel;
    try {
      channel = FileChannel.open(dir.resolve(OWNER_NEW), StandardOpenOption.WRITE,
          LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException empty) {
      try {
        Files.delete(dir);
      } catch (DirectoryNotEmptyException | NoSuchFileException midway) {
        // its creator is on: it made owner.new (or renamed it) since we looked, or it is gone
      }
      return;
    }
    removeIfUnlocked(channel, dir, remove);
  }

  private static void removeIfUnlocked(FileChannel channel, Path dir, Consumer<Path> remove)
      throws IOException {
    try (channel; FileLock taken = tryLock(channel)) {
      if (taken != null) {
        remove.accept(dir);
      }
    }
  }

  /** The scope directory this lock claims. */
  Path directory() {
    return dir;
  }

  /** Whether a scope of this JVM holds (or is creating) the lock of {@code dir}. */
  static boolean isHeld(Path dir) {
    return HELD.contains(dir);
  }

  private static FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException heldInThisJvm) {
      return null;
    }
  }

  /** Drops the lock; the scope's directory is gone or going. Idempotent. */
  @Override
  public void close() {
    HELD.remove(dir);
    try {
      channel.close();
    } catch (IOException e) {
      // the lock goes with the descriptor whatever close() reports
    }
  }
}
