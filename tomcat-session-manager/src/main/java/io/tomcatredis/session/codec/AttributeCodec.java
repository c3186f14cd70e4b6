package io.tomcatredis.session.codec;

import java.util.Arrays;

/**
 * Turns session attribute values into bytes and back. An instance is bound to one webapp's class
 * loader and {@link ClassFilter}, and is safe for concurrent use.
 */
public interface AttributeCodec {

    /** The largest {@code compressionThreshold}, bytes: longer serialized values are stored uncompressed (16 MiB). */
    int MAX_COMPRESSION_THRESHOLD = 16 << 20;

    /**
     * Never throws anything but {@link SerializationException}, whatever the value does while it
     * is written. A value modified by another thread meanwhile
     * ({@link java.util.ConcurrentModificationException}) is written again, up to 4 attempts in
     * all, before giving up; the caller then keeps the attribute's previous bytes.
     *
     * @throws SerializationException when the value (or something it references) cannot be
     *         serialized, is null, or kept changing while it was written (the cause is then the
     *         {@code ConcurrentModificationException})
     */
    byte[] encode(Object value) throws SerializationException;

    /**
     * The bytes to store for {@code value} where Redis holds {@code stored}: {@code stored} itself
     * (the same array) when {@code value} still serializes to what {@code stored} holds, else
     * {@link #encode(Object)}. For change detection: an unchanged value is recognised without the
     * cost of compressing it again ({@link CompressingCodec}).
     *
     * @param stored the bytes Redis holds for the attribute, or null
     * @throws SerializationException as {@link #encode(Object)}
     */
    default byte[] encode(Object value, byte[] stored) throws SerializationException {
        byte[] bytes = encode(value);
        // Never Arrays.equals with null: Jazzer's hook on it (the fuzzers) crashes the JVM then.
        return stored != null && Arrays.equals(bytes, stored) ? stored : bytes;
    }

    /**
     * Reads what either codec wrote, in any release, compressed or not, so that switching
     * {@code serializer} or {@code compressionThreshold} keeps sessions readable.
     *
     * @throws SerializationException when the bytes are null, empty or corrupt, name a class that no
     *         longer exists (or whose field changed type), or a class that the {@link ClassFilter}
     *         rejects (which is then never instantiated)
     */
    Object decode(byte[] bytes) throws SerializationException;

    /**
     * This codec for the values of field {@code field} of the session bound as {@code binding}:
     * itself, unless values are encrypted ({@link EncryptingCodec}), which binds each value to its
     * place, so that one copied elsewhere fails authentication.
     *
     * @param binding the session's {@code meta:sealId}, or its id without route when it has none
     * @param field   the hash field: {@code attr:<name>} or {@code meta:principal}
     */
    default AttributeCodec at(String binding, String field) {
        return this;
    }

    /**
     * The codec selected by the {@code serializer} attribute: {@code kryo} (Kryo where it keeps
     * everything Java serialization keeps, Java serialization per class elsewhere; see
     * {@link KryoCodec}) or {@code java}; compressing nothing, reading compressed values.
     */
    static AttributeCodec create(String serializer, ClassLoader classLoader, ClassFilter filter) {
        return create(serializer, classLoader, filter, 0);
    }

    /**
     * The codec selected by the {@code serializer} attribute, compressing with LZ4 the serialized
     * values of at least {@code compressionThreshold} bytes ({@link CompressingCodec}).
     *
     * @param compressionThreshold bytes; 0 or negative: nothing is compressed, compressed values
     *        are still read
     */
    static AttributeCodec create(String serializer, ClassLoader classLoader, ClassFilter filter,
            int compressionThreshold) {
        AttributeCodec codec = switch (serializer) {
            case "kryo" -> new KryoCodec(classLoader, filter);
            case "java" -> new JdkCodec(classLoader, filter);
            default -> throw new IllegalArgumentException("Unknown serializer " + serializer);
        };
        return new CompressingCodec(codec, compressionThreshold);
    }

    /**
     * As {@link #create(String, ClassLoader, ClassFilter, int)}, encrypting with AES-GCM after
     * compression when {@code keys} are given ({@link EncryptingCodec}).
     *
     * @param keys null: nothing is encrypted, and encrypted values are refused
     * @param acceptUnencrypted with keys: whether values stored unencrypted are still read
     */
    static AttributeCodec create(String serializer, ClassLoader classLoader, ClassFilter filter,
            int compressionThreshold, EncryptionKeys keys, boolean acceptUnencrypted) {
        return create(serializer, classLoader, filter, compressionThreshold, keys, acceptUnencrypted, true);
    }

    /**
     * As {@link #create(String, ClassLoader, ClassFilter, int, EncryptionKeys, boolean)}.
     *
     * @param encrypt with keys: false reads encrypted and unencrypted values and writes unencrypted
     *        ones ({@code encryptValues="false"}, for rolling restarts that turn encryption on or off)
     */
    static AttributeCodec create(String serializer, ClassLoader classLoader, ClassFilter filter,
            int compressionThreshold, EncryptionKeys keys, boolean acceptUnencrypted, boolean encrypt) {
        return new EncryptingCodec(create(serializer, classLoader, filter, compressionThreshold), keys,
                acceptUnencrypted, encrypt);
    }
}
