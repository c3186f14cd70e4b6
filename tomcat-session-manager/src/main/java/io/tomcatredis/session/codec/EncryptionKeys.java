package io.tomcatredis.session.codec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AES keys of {@code encryptionKeyFile} or {@code encryptionKeyEnv}: the first encrypts, every
 * one decrypts the values that name its id, so keys rotate without a flag day.
 *
 * <p>The format, one key per line (in a variable, lines or commas separate the keys):
 * <pre>
 *   # comment
 *   2026-11=q83vEjRWeJC7zeFKNFZ4kA==      &lt;id&gt;=&lt;base64 of 16, 24 or 32 random bytes&gt;
 *   2026-05=3q2+7w8gHyE1eY4hk0n4Pw==      older keys after it: read, never written
 * </pre>
 * An id is 1 to {@value #MAX_ID_LENGTH} of {@code A-Z a-z 0-9 . _ -}; it is stored, in clear, in every
 * value the key encrypts. Messages name entries by number, never ids or key material (a malformed
 * line may hold a key where the id should be).
 */
public final class EncryptionKeys {

    /** Longest key id, characters (ASCII: one byte each in a stored value). */
    public static final int MAX_ID_LENGTH = 64;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_ID_LENGTH + "}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** A key and its id. */
    public record Key(String id, SecretKey secret) {
        @Override
        public String toString() {
            return "Key[" + id + ", AES-" + secret.getEncoded().length * 8 + "]";
        }
    }

    private final List<Key> keys;
    private final Map<String, Key> byId;

    private EncryptionKeys(List<Key> keys) {
        this.keys = List.copyOf(keys);
        Map<String, Key> index = new LinkedHashMap<>();
        keys.forEach(key -> index.put(key.id(), key));
        this.byId = Map.copyOf(index);
    }

    /** The key that encrypts: the first listed. */
    public Key current() {
        return keys.get(0);
    }

    /** The key of {@code id}, or null when none is configured. */
    public Key byId(String id) {
        return byId.get(id);
    }

    /** The ids, in order: the first encrypts. */
    public List<String> ids() {
        return keys.stream().map(Key::id).toList();
    }

    /**
     * The keys in the file {@code path}, one {@code id=base64key} per line (LF or CRLF; a leading
     * UTF-8 byte order mark, as Windows editors write it, is skipped).
     *
     * @throws IllegalArgumentException with a message fit for an operator (no key material) when
     *         the file cannot be read or holds no valid list
     */
    public static EncryptionKeys fromFile(String path) {
        String text;
        try {
            text = Files.readString(Path.of(path), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("file \"" + path + "\" does not exist");
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("file \"" + path + "\" cannot be read: " + e.getClass().getSimpleName());
        }
        // A BOM would otherwise become part of the first id and fail it with a message that cannot show why.
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        return parse(text.split("\r?\n", -1));
    }

    /**
     * The keys in the environment variable {@code name}, in the file's format; commas may separate
     * the keys instead of newlines.
     *
     * @param environment {@link System#getenv(String)} in production
     * @throws IllegalArgumentException as {@link #fromFile}, and when the variable is not set
     */
    public static EncryptionKeys fromEnvironment(String name, Function<String, String> environment) {
        if (!ENV_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("\"" + name + "\" is not the name of an environment variable");
        }
        String text = environment.apply(name);
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("environment variable " + name + " is not set");
        }
        return parse(text.split("\r?\n|,", -1));
    }

    /**
     * Whether {@code value} looks like key material rather than a file or variable name: an
     * {@code id=base64} entry, or base64 of an AES key length. Such values are refused from
     * {@code context.xml}, where a key would sit in clear.
     */
    public static boolean looksLikeKey(String value) {
        String candidate = value.trim();
        int equals = candidate.indexOf('=');
        if (equals > 0 && ID.matcher(candidate.substring(0, equals)).matches()
                && decodesToKeyLength(candidate.substring(equals + 1))) {
            return true;
        }
        return decodesToKeyLength(candidate);
    }

    private static boolean decodesToKeyLength(String text) {
        if (text.length() < 22) {
            return false;
        }
        try {
            int length = Base64.getDecoder().decode(text.trim()).length;
            return length == 16 || length == 24 || length == 32;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static EncryptionKeys parse(String[] lines) {
        List<Key> keys = new ArrayList<>();
        Map<String, Integer> lineOfId = new LinkedHashMap<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].trim();
            int number = i + 1;
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int equals = line.indexOf('=');
            String encoded = equals <= 0 ? "" : line.substring(equals + 1).trim();
            // a bare base64 key splits at its padding: no key follows the first '='
            if (encoded.isEmpty() || encoded.startsWith("=")) {
                throw new IllegalArgumentException("entry " + number + " is not id=base64key");
            }
            String id = line.substring(0, equals).trim();
            if (!ID.matcher(id).matches()) {
                throw new IllegalArgumentException("entry " + number + ": the key id must be 1 to " + MAX_ID_LENGTH
                        + " of A-Z a-z 0-9 . _ -");
            }
            Integer earlier = lineOfId.putIfAbsent(id, number);
            if (earlier != null) {
                throw new IllegalArgumentException("entry " + number + ": its key id is already used by entry " + earlier);
            }
            byte[] secret;
            try {
                secret = Base64.getDecoder().decode(encoded);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("entry " + number + ": the key is not valid base64");
            }
            if (secret.length != 16 && secret.length != 24 && secret.length != 32) {
                throw new IllegalArgumentException("entry " + number + ": the key is " + secret.length
                        + " bytes; AES needs 16, 24 or 32");
            }
            keys.add(new Key(id, new SecretKeySpec(secret, "AES")));
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no key is listed (expected lines of id=base64key)");
        }
        return new EncryptionKeys(keys);
    }

    /** For tests and benchmarks: keys given directly, the first encrypting. */
    public static EncryptionKeys of(Key... keys) {
        return new EncryptionKeys(List.of(keys));
    }

    @Override
    public String toString() {
        return "keys " + ids() + " (" + current().id() + " encrypts)";
    }
}
