package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import java.io.Serializable;

/**
 * Kryo 5 serialization, the default. Kryo instances are not thread-safe and costly to create, so
 * they are pooled; each is configured by {@link KryoFactory} for the webapp's class loader.
 */
final class KryoCodec implements AttributeCodec {

    private static final int POOL_SIZE = 256;

    private final Pool<Kryo> pool;

    KryoCodec(ClassLoader classLoader, ClassFilter filter) {
        this.pool = new Pool<>(true, false, POOL_SIZE) {
            @Override
            protected Kryo create() {
                return KryoFactory.create(classLoader, filter);
            }
        };
    }

    @Override
    public byte[] encode(Object value) throws SerializationException {
        // Kryo could write nearly anything; storing only what Java could store keeps the two
        // serializers interchangeable and keeps threads, sockets and the like out of Redis.
        if (!(value instanceof Serializable) && !value.getClass().isRecord()) {
            throw new SerializationException(value.getClass().getName() + " implements neither java.io.Serializable"
                    + " nor is a record");
        }
        Kryo kryo = pool.obtain();
        try (Output output = new Output(256, -1)) {
            kryo.writeClassAndObject(output, value);
            return output.toBytes();
        } catch (KryoException | IllegalArgumentException | UnsupportedOperationException e) {
            throw new SerializationException("Kryo serialization of " + value.getClass().getName() + " failed: "
                    + rootMessage(e), e);
        } finally {
            // A failed write or read leaves references and depth behind; the next use of this
            // instance would otherwise refer to objects of this graph.
            kryo.reset();
            pool.free(kryo);
        }
    }

    @Override
    public Object decode(byte[] bytes) throws SerializationException {
        Kryo kryo = pool.obtain();
        try (Input input = new Input(bytes)) {
            return kryo.readClassAndObject(input);
        } catch (RejectedClassException e) {
            throw new SerializationException(e.getMessage(), e);
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                if (root instanceof RejectedClassException) {
                    break;
                }
                root = root.getCause();
            }
            if (root instanceof RejectedClassException) {
                throw new SerializationException(root.getMessage(), e);
            }
            throw new SerializationException("Kryo deserialization failed: " + rootMessage(e), e);
        } finally {
            // A failed write or read leaves references and depth behind; the next use of this
            // instance would otherwise refer to objects of this graph.
            kryo.reset();
            pool.free(kryo);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root + ")";
    }
}
