package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;

/**
 * Writes one object, and everything it references, with Java serialization inside a Kryo stream
 * (a length-prefixed Java serialization stream), for the classes {@link SerializationPolicy} keeps
 * away from Kryo. Every object this stream writes is remembered in the {@link SessionKryo}; one
 * that Kryo wrote already, or writes later, or that another such stream wrote, raises
 * {@link CodecSignal.SharedAcrossFormats}: the two formats cannot share an object (immutable
 * values excepted, see {@link SerializationPolicy#isImmutableValue}).
 */
final class EmbeddedJavaSerializer extends Serializer<Object> {

    private final ClassLoader classLoader;
    private final ClassFilter filter;

    EmbeddedJavaSerializer(ClassLoader classLoader, ClassFilter filter) {
        this.classLoader = classLoader;
        this.filter = filter;
    }

    @Override
    public void write(Kryo kryo, Output output, Object value) {
        SessionKryo session = (SessionKryo) kryo;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (ObjectOutputStream out = new TrackingOutputStream(bytes, session, value)) {
            out.writeObject(value);
        } catch (IOException | RuntimeException | StackOverflowError e) {
            CodecSignal signal = CodecSignal.in(e);
            if (signal != null) {
                throw signal;
            }
            if (e instanceof RuntimeException runtime && CodecSignal.concurrentModification(e) != null) {
                throw runtime;
            }
            throw new CodecSignal.JavaSerializationFailed(value.getClass(), e);
        }
        output.writeVarInt(bytes.size(), true);
        output.writeBytes(bytes.toByteArray());
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

    /** Reports each object it writes to the {@link SessionKryo}, which detects sharing across formats. */
    private static final class TrackingOutputStream extends ObjectOutputStream {
        private final SessionKryo kryo;
        private final Object root;

        TrackingOutputStream(ByteArrayOutputStream bytes, SessionKryo kryo, Object root) throws IOException {
            super(bytes);
            this.kryo = kryo;
            this.root = root;
            enableReplaceObject(true);
        }

        @Override
        protected Object replaceObject(Object object) {
            // Called once per object of this stream (a repeated one is written as a back reference).
            kryo.writtenByJava(object, object == root);
            return object;
        }
    }
}
