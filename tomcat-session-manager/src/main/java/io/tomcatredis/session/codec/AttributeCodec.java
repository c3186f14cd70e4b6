package io.tomcatredis.session.codec;

/**
 * Turns session attribute values into bytes and back. An instance is bound to one webapp's class
 * loader and {@link ClassFilter}, and is safe for concurrent use.
 */
public interface AttributeCodec {

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
     * Reads what either codec wrote, in any release, so that switching {@code serializer} keeps
     * sessions readable.
     *
     * @throws SerializationException when the bytes are null, empty or corrupt, name a class that no
     *         longer exists (or whose field changed type), or a class that the {@link ClassFilter}
     *         rejects (which is then never instantiated)
     */
    Object decode(byte[] bytes) throws SerializationException;

    /**
     * The codec selected by the {@code serializer} attribute: {@code kryo} (Kryo where it keeps
     * everything Java serialization keeps, Java serialization per class elsewhere; see
     * {@link KryoCodec}) or {@code java}.
     */
    static AttributeCodec create(String serializer, ClassLoader classLoader, ClassFilter filter) {
        return switch (serializer) {
            case "kryo" -> new KryoCodec(classLoader, filter);
            case "java" -> new JdkCodec(classLoader, filter);
            default -> throw new IllegalArgumentException("Unknown serializer " + serializer);
        };
    }
}
