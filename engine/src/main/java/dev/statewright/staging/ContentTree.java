package dev.statewright.staging;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The file-system half of staging: scan a source tree (refusing escaping symlinks and special
 * files), copy it owner-only while digesting it, digest a staged tree again, delete one. Never
 * follows a symlink: links inside the tree are recreated as links.
 *
 * <p>The digest is {@code sha256:} + hex over the entries sorted by relative path ('/'-separated),
 * each written as {@code "d <path>\n"}, {@code "l <path> -> <target>\n"} or
 * {@code "f <path> <size>\n"} followed by the file's bytes.
 */
final class ContentTree {
  private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_EXEC = PosixFilePermissions.fromString("rwx------");

  enum Kind { DIRECTORY, FILE, LINK }

  /** One entry of a tree, by path relative to its root. */
  record Item(String relative, Kind kind, Path path, String linkTarget) { }

  private ContentTree() { }

  /** The entries below {@code root}, sorted; refuses what must not be staged. */
  static List<Item> scan(Path root, URI source, Path origin) throws IOException {
    List<Item> items = new ArrayList<>();
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
        if (!dir.equals(root)) {
          items.add(new Item(relative(root, dir), Kind.DIRECTORY, dir, null));
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        items.add(item(root, file, attrs, source, origin));
        return FileVisitResult.CONTINUE;
      }
    });
    items.sort(Comparator.comparing(Item::relative));
    return items;
  }

  private static Item item(Path root, Path file, BasicFileAttributes attrs, URI source, Path origin)
      throws IOException {
    String relative = relative(root, file);
    if (attrs.isRegularFile()) {
      return new Item(relative, Kind.FILE, file, null);
    }
    if (attrs.isSymbolicLink()) {
      Path target = Files.readSymbolicLink(file);
      Path resolved = file.getParent().resolve(target).normalize();
      if (target.isAbsolute()) {
        throw new UnsafeSourceException("symlink " + relative + " -> " + target + " is absolute;"
            + " only relative links that stay inside the source tree can be staged", source, origin);
      }
      if (!resolved.startsWith(root)) {
        throw new UnsafeSourceException("symlink " + relative + " -> " + target
            + " points out of the source tree " + root, source, origin);
      }
      return new Item(relative, Kind.LINK, file, target.toString());
    }
    throw new UnsafeSourceException("special file " + relative + " (not a regular file, directory"
        + " or symlink) cannot be staged", source, origin);
  }

  /** Copies {@code items} from their tree into the new directory {@code target}. */
  static void copy(List<Item> items, Path target) throws IOException {
    createOwnerOnlyDirectory(target);
    for (Item item : items) {
      Path to = target.resolve(item.relative());
      switch (item.kind()) {
        case DIRECTORY -> createOwnerOnlyDirectory(to);
        case LINK -> Files.createSymbolicLink(to, Path.of(item.linkTarget()));
        case FILE -> {
          try (InputStream in = Files.newInputStream(item.path(), LinkOption.NOFOLLOW_LINKS);
               OutputStream out = newOwnerOnlyFile(to, Files.isExecutable(item.path()))) {
            in.transferTo(out);
          }
        }
      }
    }
  }

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

  /** The digest of a staged tree, computed again from disk. */
  static String digest(Path stagedRoot) throws IOException {
    MessageDigest digest = sha256();
    for (Item item : scan(stagedRoot, null, null)) {
      switch (item.kind()) {
        case DIRECTORY -> update(digest, "d " + item.relative() + "\n");
        case LINK -> update(digest, "l " + item.relative() + " -> " + item.linkTarget() + "\n");
        case FILE -> {
          update(digest, "f " + item.relative() + " " + Files.size(item.path()) + "\n");
          try (InputStream in = Files.newInputStream(item.path(), LinkOption.NOFOLLOW_LINKS)) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
              digest.update(buffer, 0, n);
            }
          }
        }
      }
    }
    return hex(digest);
  }

  /** Deletes {@code root} and everything below it, links as links; only inside {@code area}. */
  static void delete(Path root, Path area) {
    if (!root.normalize().startsWith(area) || root.normalize().equals(area)) {
      throw new IllegalStateException("refusing to delete " + root + ": not inside " + area);
    }
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException failed) throws IOException {
          if (failed != null) {
            throw failed;
          }
          Files.delete(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }

  static void createOwnerOnlyDirectory(Path dir) throws IOException {
    if (posix(dir)) {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
    } else {
      Files.createDirectory(dir);
    }
  }

  static OutputStream newOwnerOnlyFile(Path file, boolean executable) throws IOException {
    if (posix(file)) {
      FileAttribute<?> perms = PosixFilePermissions.asFileAttribute(executable ? OWNER_EXEC : OWNER_FILE);
      Files.createFile(file, perms);
    } else {
      Files.createFile(file);
    }
    return Files.newOutputStream(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
  }

  static boolean posix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private static String relative(Path root, Path path) {
    return root.relativize(path).toString().replace(path.getFileSystem().getSeparator(), "/");
  }

  private static void update(MessageDigest digest, String text) {
    digest.update(text.getBytes(StandardCharsets.UTF_8));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  private static String hex(MessageDigest digest) {
    return "sha256:" + HexFormat.of().formatHex(digest.digest());
  }
}
