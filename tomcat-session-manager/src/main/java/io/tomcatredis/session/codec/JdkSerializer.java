package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

/** Writes one object with Java serialization inside a Kryo stream, honouring the class filter. */
final class JdkSerializer extends Serializer<Object> {

    private final ClassLoader classLoader;
    private final ClassFilter filter;

    JdkSerializer(ClassLoader classLoader, ClassFilter filter) {
        this.classLoader = classLoader;
        this.filter = filter;
    }

    @Override
    public void write(Kryo kryo, Output output, Object value) {
        try {
            byte[] bytes = JdkCodec.write(value);
            output.writeVarInt(bytes.length, true);
            output.writeBytes(bytes);
        } catch (SerializationException e) {
            throw new KryoException(e.getMessage(), e);
        }
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<?> type) {
        byte[] bytes = input.readBytes(input.readVarInt(true));
        try {
            return JdkCodec.read(bytes, classLoader, filter);
        } catch (SerializationException e) {
            throw new KryoException(e.getMessage(), e);
        }
    }
}
