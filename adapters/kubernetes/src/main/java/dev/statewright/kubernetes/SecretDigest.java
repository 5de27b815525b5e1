package dev.statewright.kubernetes;

import io.fabric8.kubernetes.api.model.Secret;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Secret's data as a SHA-256 digest, so that two versions can be compared without keeping or
 * logging the data, and without the collisions of a 32-bit hash ({@code Objects.hash} of two data
 * maps whose entries swap values between keys of equal {@code hashCode} is the same).
 *
 * <p>The digest is taken over an injective encoding: {@code data}, then {@code stringData}, each as
 * a presence byte and an entry count, then its entries sorted by name, each name and value as a
 * 4-byte big-endian length and its UTF-8 bytes (a null value as length -1). Different data give
 * different encodings, so equal digests mean equal data (up to SHA-256 collisions).
 */
final class SecretDigest {
  private SecretDigest() { }

  /** The hex SHA-256 of {@code secret}'s data and stringData. */
  static String of(Secret secret) {
    MessageDigest sha = sha256();
    update(sha, secret.getData());
    update(sha, secret.getStringData());
    return HexFormat.of().formatHex(sha.digest());
  }

  private static void update(MessageDigest sha, Map<String, String> entries) {
    if (entries == null) {
      sha.update((byte) 0);
      return;
    }
    sha.update((byte) 1);
    sha.update(ByteBuffer.allocate(4).putInt(entries.size()).array());
    for (var e : new TreeMap<>(entries).entrySet()) {
      lengthPrefixed(sha, e.getKey());
      lengthPrefixed(sha, e.getValue());
    }
  }

  private static void lengthPrefixed(MessageDigest sha, String text) {
    byte[] bytes = text == null ? new byte[0] : text.getBytes(StandardCharsets.UTF_8);
    sha.update(ByteBuffer.allocate(4).putInt(text == null ? -1 : bytes.length).array());
    sha.update(bytes);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
