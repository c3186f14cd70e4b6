package io.tomcatredis.session.codec;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-GCM encryption of stored values ({@code encryptionKeyFile}, {@code encryptionKeyEnv}) around
 * the compressing codec: a value is serialized, compressed, then encrypted with the first key;
 * decrypted with whichever configured key its id names. Each value is bound to where it is stored
 * ({@link #at}): the session ({@code meta:sealId}, else the session id without route) and the
 * field ({@code attr:<name>}, {@code meta:principal}), as GCM's additional authenticated data, so
 * a value copied to another session or field fails authentication like a forged one.
 *
 * <p>An encrypted value, byte by byte:
 * <pre>
 *   0xE7        {@link #AES_GCM}: no value of another format starts with it (0xC4 LZ4, 0xF2 Kryo
 *               format 2, 0xAC 0xED Java serialization, a Kryo class id below 0x80 for format 1)
 *   1 byte      n, the length of the key id, 1..{@value EncryptionKeys#MAX_ID_LENGTH}
 *   n bytes     the key id, ASCII
 *   12 bytes    the nonce, random (SecureRandom) for each value
 *   the rest    AES-GCM ciphertext of a value of the other formats (compressed or not), then its
 *               128-bit tag; additional data: "tomcat-redis-v1", 0, the header above (flag, n, id),
 *               the session binding (UTF-8), 0, the field name (UTF-8)
 * </pre>
 *
 * <p>Bytes from Redis are not trusted: a value whose key id is not configured, whose tag does not
 * verify (forged, truncated, copied from elsewhere, encrypted with another key of the same id), or
 * that decrypts to another encrypted value, is a {@link SerializationException}, so the caller drops
 * it with a WARN as it does any corrupt value. With keys configured, a value that is not encrypted
 * is refused too unless {@code acceptUnencryptedValues} (a migration) or {@code encryptValues="false"}
 * (decrypt-only: both forms read, values written unencrypted); without keys, encrypted values are
 * refused (they cannot be read) and nothing is encrypted.
 *
 * <p>Random nonces: a key should encrypt fewer than 2^32 values (NIST SP 800-38D, 8.3); rotate it
 * well before, e.g. yearly on a site writing a hundred values a second.
 */
final class EncryptingCodec implements AttributeCodec {

    /** First byte of an encrypted value. */
    static final byte AES_GCM = (byte) 0xE7;
    static final int NONCE_BYTES = 12;
    static final int TAG_BITS = 128;
    private static final byte[] DOMAIN = "tomcat-redis-v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * One cipher per thread, initialized afresh for each value: {@link Cipher#getInstance} costs
     * about twice what encrypting a typical value does (benchmarks/RESULTS.md). A JDK class only,
     * so no webapp class loader is kept by a thread.
     */
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM/NoPadding is missing from this JDK", e);
        }
    });

    private final AttributeCodec inner;
    private final EncryptionKeys keys;
    private final boolean acceptUnencrypted;
    /** The header of values written, or null when values are written unencrypted. */
    private final byte[] currentHeader;
    private final Bound withoutKeys;

    /**
     * @param keys null: nothing is encrypted, encrypted values are refused
     * @param acceptUnencrypted with keys: whether values that are not encrypted are still read
     * @param encrypt with keys: whether values are written encrypted; false (decrypt-only, for
     *        rolling restarts that turn encryption on or off) reads both forms, writes unencrypted
     */
    EncryptingCodec(AttributeCodec inner, EncryptionKeys keys, boolean acceptUnencrypted, boolean encrypt) {
        this.inner = inner;
        this.keys = keys;
        this.acceptUnencrypted = keys == null || acceptUnencrypted || !encrypt;
        this.currentHeader = keys == null || !encrypt ? null : header(keys.current().id());
        this.withoutKeys = new Bound(new byte[0], new byte[0]);
    }

    /** Bound to no session and no field: for tools and fuzzers, never for a session's values. */
    @Override
    public byte[] encode(Object value) throws SerializationException {
        return at("", "").encode(value);
    }

    @Override
    public byte[] encode(Object value, byte[] stored) throws SerializationException {
        return at("", "").encode(value, stored);
    }

    @Override
    public Object decode(byte[] bytes) throws SerializationException {
        return at("", "").decode(bytes);
    }

    /** Without keys no value is encrypted, so none needs its place: one instance serves every field. */
    @Override
    public AttributeCodec at(String binding, String field) {
        if (keys == null) {
            return withoutKeys;
        }
        return new Bound(binding.getBytes(StandardCharsets.UTF_8), field.getBytes(StandardCharsets.UTF_8));
    }

    /** The values of one field of one session. */
    private final class Bound implements AttributeCodec {
        private final byte[] binding;
        private final byte[] field;

        Bound(byte[] binding, byte[] field) {
            this.binding = binding;
            this.field = field;
        }

        @Override
        public byte[] encode(Object value) throws SerializationException {
            return encrypted(inner.encode(value));
        }

        /**
         * {@inheritDoc}
         *
         * <p>Compares plaintext: the nonce makes every encryption of one value differ, so an
         * unchanged value is recognised by decrypting {@code stored} (and returned as it is), never
         * by comparing ciphertexts.
         */
        @Override
        public byte[] encode(Object value, byte[] stored) throws SerializationException {
            byte[] plain = null;
            if (stored != null && (keys == null || isEncrypted(stored))) {
                try {
                    plain = keys == null ? stored : decrypted(stored);
                } catch (SerializationException e) {
                    plain = null; // unreadable here: written again
                }
            }
            byte[] bytes = inner.encode(value, plain);
            return plain != null && bytes == plain ? stored : encrypted(bytes);
        }

        @Override
        public Object decode(byte[] bytes) throws SerializationException {
            if (bytes != null && isEncrypted(bytes)) {
                return inner.decode(decrypted(bytes));
            }
            if (!acceptUnencrypted && bytes != null && bytes.length > 0) {
                throw new SerializationException("the value is not encrypted, and encryption is on"
                        + " (acceptUnencryptedValues=\"true\" reads such values during a migration)");
            }
            return inner.decode(bytes);
        }

        private byte[] encrypted(byte[] plain) throws SerializationException {
            byte[] header = currentHeader;
            if (header == null) {
                return plain;
            }
            byte[] out = new byte[header.length + NONCE_BYTES + plain.length + TAG_BITS / 8];
            System.arraycopy(header, 0, out, 0, header.length);
            byte[] nonce = new byte[NONCE_BYTES];
            RANDOM.nextBytes(nonce);
            System.arraycopy(nonce, 0, out, header.length, NONCE_BYTES);
            try {
                Cipher cipher = CIPHER.get();
                cipher.init(Cipher.ENCRYPT_MODE, keys.current().secret(), new GCMParameterSpec(TAG_BITS, nonce));
                cipher.updateAAD(aad(header));
                cipher.doFinal(plain, 0, plain.length, out, header.length + NONCE_BYTES);
            } catch (GeneralSecurityException e) {
                throw new SerializationException("AES-GCM encryption failed: " + e, e);
            }
            return out;
        }

        private byte[] decrypted(byte[] stored) throws SerializationException {
            int idLength = stored.length > 1 ? stored[1] & 0xFF : 0;
            int header = 2 + idLength;
            if (idLength < 1 || idLength > EncryptionKeys.MAX_ID_LENGTH
                    || stored.length < header + NONCE_BYTES + TAG_BITS / 8 + 1) {
                throw corrupt("its header is truncated or malformed");
            }
            String id = new String(stored, 2, idLength, StandardCharsets.US_ASCII);
            EncryptionKeys.Key key = keys == null ? null : keys.byId(id);
            if (key == null) {
                throw new SerializationException("the value is encrypted with key id \"" + printable(id) + "\", which "
                        + (keys == null ? "cannot be read: encryption is not configured (encryptionKeyFile or encryptionKeyEnv)"
                        : "is not among the configured keys " + keys.ids()));
            }
            byte[] plain;
            try {
                Cipher cipher = CIPHER.get();
                cipher.init(Cipher.DECRYPT_MODE, key.secret(), new GCMParameterSpec(TAG_BITS, stored, header, NONCE_BYTES));
                cipher.updateAAD(aad(Arrays.copyOf(stored, header)));
                plain = cipher.doFinal(stored, header + NONCE_BYTES, stored.length - header - NONCE_BYTES);
            } catch (AEADBadTagException e) {
                throw new SerializationException("the value fails authentication with key \"" + id + "\" (forged, damaged,"
                        + " or copied from another session or attribute)");
            } catch (GeneralSecurityException e) {
                throw new SerializationException("AES-GCM decryption failed: " + e, e);
            }
            if (plain.length == 0 || plain[0] == AES_GCM) {
                throw corrupt("it holds no value, or another encrypted value");
            }
            return plain;
        }

        private byte[] aad(byte[] header) {
            byte[] aad = new byte[DOMAIN.length + 1 + header.length + binding.length + 1 + field.length];
            int at = 0;
            System.arraycopy(DOMAIN, 0, aad, at, DOMAIN.length);
            at += DOMAIN.length + 1;
            System.arraycopy(header, 0, aad, at, header.length);
            at += header.length;
            System.arraycopy(binding, 0, aad, at, binding.length);
            at += binding.length + 1;
            System.arraycopy(field, 0, aad, at, field.length);
            return aad;
        }
    }

    private static boolean isEncrypted(byte[] bytes) {
        return bytes.length > 0 && bytes[0] == AES_GCM;
    }

    private static byte[] header(String keyId) {
        byte[] id = keyId.getBytes(StandardCharsets.US_ASCII);
        byte[] header = new byte[2 + id.length];
        header[0] = AES_GCM;
        header[1] = (byte) id.length;
        System.arraycopy(id, 0, header, 2, id.length);
        return header;
    }

    /** A key id read from Redis, safe for a log line. */
    private static String printable(String id) {
        return id.replaceAll("[^A-Za-z0-9._-]", "?");
    }

    private static SerializationException corrupt(String why) {
        return new SerializationException("corrupt encrypted value: " + why);
    }
}
