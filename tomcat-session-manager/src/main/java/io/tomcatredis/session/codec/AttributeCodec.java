package io.tomcatredis.session.codec;

/**
 * Turns session attribute values into bytes and back. An instance is bound to one webapp's class
 * loader and {@link ClassFilter}, and is safe for concurrent use.
 */
public interface AttributeCodec {

    /**
     * @throws SerializationException when the value (or something it references) cannot be serialized
     */
    byte[] encode(Object value) throws SerializationException;

    /**
     * @throws SerializationException when the bytes are corrupt, name a class that no longer exists,
     *         or a class that the {@link ClassFilter} rejects (which is then never instantiated)
     */
    Object decode(byte[] bytes) throws SerializationException;

    /** The codec selected by the {@code serializer} attribute: {@code kryo} or {@code java}. */
    static AttributeCodec create(String serializer, ClassLoader classLoader, ClassFilter filter) {
        return switch (serializer) {
            case "kryo" -> new KryoCodec(classLoader, filter);
            case "java" -> new JdkCodec(classLoader, filter);
            default -> throw new IllegalArgumentException("Unknown serializer " + serializer);
        };
    }
}
