package dev.statewright.staging;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
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

/**
 * A live scope's claim on its directory: an exclusive lock ({@link FileChannel#lock()}) on the
 * file {@code owner} inside it, held for as long as the scope lives (S6). The kernel drops the
 * lock when the owning process dies, in whatever PID namespace it ran, so a sweeper that can take
 * the lock knows the owner is gone; pid and start time are written into the file as a label only.
 *
 * <p>The file is created as {@code owner.new}, locked, then renamed to {@code owner}: a sweeper
 * never finds an {@code owner} that is not yet locked. A directory without {@code owner} is left
 * alone (its creator may be between {@code mkdir} and the rename).
 *
 * <p>POSIX locks belong to the process, and closing any channel on the file drops them all, so
 * this JVM never opens the owner file of a scope it holds: {@link #HELD} says which those are.
 */
final class ScopeLock implements AutoCloseable {
  static final String OWNER = "owner";
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final FileChannel channel;

  private ScopeLock(Path dir, FileChannel channel) {
    this.dir = dir;
    this.channel = channel;
  }

  /** Locks a new owner file in the new scope directory {@code dir}, labelled {@code label}. */
  static ScopeLock create(Path dir, String label) throws IOException {
    Path fresh = dir.resolve(OWNER + ".new");
    FileChannel channel = ContentTree.posix(dir)
        ? FileChannel.open(fresh, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------")))
        : FileChannel.open(fresh, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    try {
      channel.lock();
      channel.write(ByteBuffer.wrap(label.getBytes(StandardCharsets.UTF_8)));
      HELD.add(dir);
      Files.move(fresh, dir.resolve(OWNER), StandardCopyOption.ATOMIC_MOVE);
      return new ScopeLock(dir, channel);
    } catch (IOException | RuntimeException e) {
      HELD.remove(dir);
      channel.close();
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
      return;
    }
    try (channel; FileLock taken = tryLock(channel)) {
      if (taken != null) {
        remove.accept(dir);
      }
    }
  }

  /** Whether a scope of this JVM holds the lock of {@code dir}. */
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
