package dev.statewright.staging;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;

/**
 * The content digest of a staged tree (S4): {@code sha256:} + hex over an injective encoding, so
 * two different trees never feed SHA-256 the same bytes. Format (version 1, all integers
 * big-endian), as {@code specs/staging-lifecycle.md} documents with a test vector:
 *
 * <pre>
 * "statewright-tree-v1" 0x00
 * per entry, in pre-order, each directory's entries sorted by their name bytes (unsigned):
 *   type     1 byte: 'd' directory, 'f' regular file, 'l' symlink, 's' anything else
 *   path     u32 length + bytes of the path relative to the root, '/'-separated
 *   mode     u32: permission bits (0 for a link, or without POSIX permissions)
 *   content  'f': u64 length + SHA-256 of the bytes (32 bytes); 'l': u32 length + the target's
 *            bytes; else nothing
 * </pre>
 *
 * Names are taken as the bytes the platform stores ({@code sun.jnu.encoding}); staging refuses
 * a name that does not survive that encoding, so these are the bytes on disk.
 */
final class ContentDigest {
  /** The platform's file-name encoding. */
  static final Charset NAMES = Charset.forName(System.getProperty("sun.jnu.encoding",
      Charset.defaultCharset().name()));

  /** File names in digest order: by their bytes, unsigned. */
  static final Comparator<Path> BY_NAME_BYTES =
      (a, b) -> Arrays.compareUnsigned(bytes(a.toString()), bytes(b.toString()));

  private static final byte[] HEADER = "statewright-tree-v1\0".getBytes(StandardCharsets.US_ASCII);

  private final MessageDigest sha256 = sha256();

  ContentDigest() {
    sha256.update(HEADER);
  }

  void directory(String path, int mode) {
    entry('d', path, mode);
  }

  void link(String path, String target) {
    entry('l', path, 0);
    chunk(bytes(target));
  }

  void special(String path) {
    entry('s', path, 0);
  }

  /** A regular file, its bytes read from {@code in}. */
  void file(String path, int mode, InputStream in) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    long length = 0;
    MessageDigest content = sha256(); // the length comes first, so the bytes go in as their hash
    for (int n; (n = in.read(buffer)) > 0; ) {
      content.update(buffer, 0, n);
      length += n;
    }
    file(path, mode, length, content.digest());
  }

  /** A regular file of {@code length} bytes whose SHA-256 ({@link #sha256()}) is {@code content}. */
  void file(String path, int mode, long length, byte[] content) {
    entry('f', path, mode);
    sha256.update(ByteBuffer.allocate(Long.BYTES).putLong(length).array());
    sha256.update(content);
  }

  String value() {
    return "sha256:" + HexFormat.of().formatHex(sha256.digest());
  }

  private void entry(char type, String path, int mode) {
    sha256.update((byte) type);
    chunk(bytes(path));
    sha256.update(ByteBuffer.allocate(Integer.BYTES).putInt(mode).array());
  }

  private void chunk(byte[] bytes) {
    sha256.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
    sha256.update(bytes);
  }

  static byte[] bytes(String name) {
    return name.getBytes(NAMES);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
