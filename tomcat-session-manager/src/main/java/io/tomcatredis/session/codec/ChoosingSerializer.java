package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.function.Supplier;

/**
 * The serializer of a class whose format the {@link SerializationPolicy} chooses: writes one byte,
 * {@value #KRYO} or {@value #JAVA}, then the object in that format. The reader obeys the byte, not
 * its own policy. Kryo's serializer for the class is created only when first needed (Kryo cannot
 * even build one for most JDK classes).
 */
final class ChoosingSerializer<T> extends Serializer<T> {

    static final byte KRYO = 0;
    static final byte JAVA = 1;

    private final Class<?> type;
    private final EmbeddedJavaSerializer java;
    private final Supplier<Serializer<T>> kryoSerializerFactory;
    private Serializer<T> kryoSerializer;

    ChoosingSerializer(Class<?> type, EmbeddedJavaSerializer java, Supplier<Serializer<T>> kryoSerializerFactory) {
        this.type = type;
        this.java = java;
        this.kryoSerializerFactory = kryoSerializerFactory;
    }

    @Override
    public void write(Kryo kryo, Output output, T object) {
        if (((SessionKryo) kryo).writesWithKryo(object.getClass())) {
            output.writeByte(KRYO);
            kryoSerializer().write(kryo, output, object);
        } else {
            output.writeByte(JAVA);
            java.write(kryo, output, object);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public T read(Kryo kryo, Input input, Class<? extends T> readType) {
        byte format = input.readByte();
        return switch (format) {
            case KRYO -> kryoSerializer().read(kryo, input, readType);
            case JAVA -> (T) java.read(kryo, input, readType);
            default -> throw new KryoException("unknown format " + format + " for " + type.getName());
        };
    }

    private Serializer<T> kryoSerializer() {
        if (kryoSerializer == null) {
            kryoSerializer = kryoSerializerFactory.get();
        }
        return kryoSerializer;
    }
}
