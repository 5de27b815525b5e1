package dev.statewright.staging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Function;

/**
 * Whether a symlink inside a source tree stays inside it, resolved the way the kernel resolves
 * it: component by component, following each link met on the way and applying {@code ..} to
 * where the link led, not to the text (S5). {@code l -> .} then {@code x -> l/../f} leaves the
 * tree although {@code l/../f} normalises to {@code f}.
 *
 * <p>A link is kept only if no step of its resolution leaves the tree: an absolute target, a
 * {@code ..} above the root, or more than {@value #MAX_LINKS} links followed (the kernel's ELOOP),
 * the link itself counted, refuse it. A component that does not exist is
 * taken as a plain directory name.
 */
final class LinkResolution {
  static final int MAX_LINKS = 40;

  private final SecureDirectoryStream<Path> root;
  private final Path rootPath;
  private final String link;
  private final Function<String, UnsafeSourceException> refuse;
  private int followed = 1; // the link itself: the kernel counts it among its 40

  private LinkResolution(SecureDirectoryStream<Path> root, Path rootPath, String link,
      Function<String, UnsafeSourceException> refuse) {
    this.root = root;
    this.rootPath = rootPath;
    this.link = link;
    this.refuse = refuse;
  }

  /** Throws what {@code refuse} makes unless the link at {@code relative} -> {@code target} stays inside. */
  static void requireInside(SecureDirectoryStream<Path> root, Path rootPath, String relative,
      Path target, Function<String, UnsafeSourceException> refuse) throws IOException {
    Deque<String> at = components(relative);
    at.removeLast();
    new LinkResolution(root, rootPath, relative + " -> " + target, refuse).follow(at, target);
  }

  /** Walks {@code target} from the directory {@code at} (components below the root). */
  private void follow(Deque<String> at, Path target) throws IOException {
    if (target.isAbsolute()) {
      throw refuse.apply("symlink " + link + " is absolute (or leads to an absolute link); only"
          + " relative links that stay inside the source tree can be staged");
    }
    for (Path part : target) {
      step(at, part.toString());
    }
  }

  private void step(Deque<String> at, String part) throws IOException {
    if (part.equals(".") || part.isEmpty()) {
      return;
    }
    if (part.equals("..")) {
      if (at.isEmpty()) {
        throw refuse.apply("symlink " + link + " points out of the source tree " + rootPath);
      }
      at.removeLast();
      return;
    }
    at.addLast(part);
    if (isLink(at)) {
      if (++followed > MAX_LINKS) {
        throw refuse.apply("symlink " + link + " follows more than " + MAX_LINKS + " links");
      }
      Path next = Files.readSymbolicLink(rootPath.resolve(String.join("/", at)));
      at.removeLast();
      follow(at, next);
    }
  }

  /** Whether the entry at {@code at} is a link, looked up through open directories. */
  private boolean isLink(Deque<String> at) throws IOException {
    SecureDirectoryStream<Path> dir = root;
    String[] parts = at.toArray(String[]::new);
    Deque<SecureDirectoryStream<Path>> opened = new ArrayDeque<>();
    try {
      for (int i = 0; i < parts.length - 1; i++) {
        dir = dir.newDirectoryStream(Path.of(parts[i]), LinkOption.NOFOLLOW_LINKS);
        opened.push(dir);
      }
      BasicFileAttributes attrs = ContentTree.attributes(dir, Path.of(parts[parts.length - 1]));
      return attrs.isSymbolicLink();
    } catch (IOException missingOrNotADirectory) {
      return false; // taken as a plain name; `..` then undoes it textually, as it stays inside
    } finally {
      for (SecureDirectoryStream<Path> d : opened) {
        d.close();
      }
    }
  }

  private static Deque<String> components(String relative) {
    Deque<String> parts = new ArrayDeque<>();
    for (String part : relative.split("/")) {
      parts.addLast(part);
    }
    return parts;
  }
}
