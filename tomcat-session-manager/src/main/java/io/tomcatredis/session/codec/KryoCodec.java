package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.util.Pool;
import java.io.Serializable;
import java.util.List;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * Kryo 5 serialization, the default, with Java serialization per class where Kryo would not keep
 * everything Java serialization keeps ({@link SerializationPolicy}). The rule it implements: any
 * value whose observable state survives Java serialization survives this codec.
 *
 * <p>Stored bytes, by their first byte:
 * <ul>
 *   <li>{@link #FORMAT_2} ({@code 0xF2}): a Kryo stream of {@link SessionKryo}, in which classes
 *       chosen by the policy are length-prefixed Java serialization streams;</li>
 *   <li>{@code 0xAC 0xED}: a plain Java serialization stream, written when one object is shared
 *       between a Kryo-written and a Java-written part of the value (only Java serialization can
 *       keep that sharing), or when Kryo failed on the value in a way no class could be blamed for;
 *       also what {@code serializer="java"} writes, so switching serializer keeps sessions readable;</li>
 *   <li>anything else (a Kryo class id, below {@code 0x80}): format 1, written before format 2
 *       existed, read with the configuration of the time ({@link LegacyKryoFactory}).</li>
 * </ul>
 *
 * <p>Kryo instances are not thread-safe and costly to create, so they are pooled.
 */
final class KryoCodec implements AttributeCodec {

    /** First byte of values written by this version. */
    static final byte FORMAT_2 = (byte) 0xF2;

    /**
     * Attempts to encode one value: a concurrent modification is retried, and so is a class on
     * which Kryo failed (it goes to Java serialization for the next attempt).
     */
    static final int MAX_ATTEMPTS = 4;

    private static final Log log = LogFactory.getLog(KryoCodec.class);
    private static final int POOL_SIZE = 256;

    private final ClassLoader classLoader;
    private final ClassFilter filter;
    private final SerializationPolicy policy = new SerializationPolicy();
    private final Pool<SessionKryo> pool;
    private final Pool<Kryo> legacyPool;

    KryoCodec(ClassLoader classLoader, ClassFilter filter) {
        this.classLoader = classLoader;
        this.filter = filter;
        this.pool = new Pool<>(true, false, POOL_SIZE) {
            @Override
            protected SessionKryo create() {
                return SessionKryo.create(classLoader, filter, policy);
            }
        };
        this.legacyPool = new Pool<>(true, false, 16) {
            @Override
            protected Kryo create() {
                return LegacyKryoFactory.create(classLoader, filter);
            }
        };
    }

    /**
     * {@inheritDoc}
     *
     * <p>Never throws anything but {@link SerializationException}: a value modified by another
     * thread while it is written ({@link java.util.ConcurrentModificationException}) is written again,
     * up to {@value #MAX_ATTEMPTS} times in all; the JDK collections that Kryo writes are written
     * from a snapshot ({@link SnapshotSerializers}), which the last attempt keeps; a modification
     * that Java serialization detects in the last attempt is reported as a
     * {@link SerializationException} whose cause is the {@code ConcurrentModificationException}.
     */
    @Override
    public byte[] encode(Object value) throws SerializationException {
        if (value == null) {
            throw new SerializationException("null is not an attribute value (setAttribute(name, null) removes it)");
        }
        // Kryo could write nearly anything; storing only what Java could store keeps the two
        // serializers interchangeable and keeps threads, sockets and the like out of Redis.
        if (!(value instanceof Serializable) && !value.getClass().isRecord()) {
            throw new SerializationException(value.getClass().getName() + " implements neither java.io.Serializable"
                    + " nor is a record");
        }
        RuntimeException concurrentModification = null;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            SessionKryo kryo = obtain();
            try {
                byte[] bytes = kryo.write(value, attempt == MAX_ATTEMPTS);
                verifyFreshClasses(kryo, bytes);
                pool.free(kryo);
                return bytes;
            } catch (RuntimeException | StackOverflowError | LinkageError e) {
                // the instance is dropped, not returned to the pool: its state is unknown
                CodecSignal signal = CodecSignal.in(e);
                if (signal instanceof CodecSignal.KryoFailedOnClass failed) {
                    policy.kryoFailed(failed.type, failed.getCause());
                } else if (signal instanceof CodecSignal.SharedAcrossFormats) {
                    return javaSerialized(value, attempt);
                } else if (signal instanceof CodecSignal.JavaSerializationFailed) {
                    throw new SerializationException(signal.getMessage(), signal.getCause());
                } else if (CodecSignal.concurrentModification(e) != null) {
                    concurrentModification = CodecSignal.concurrentModification(e);
                    Thread.yield(); // let the modifying thread finish before the next attempt
                } else {
                    log.debug("Kryo failed on " + value.getClass().getName() + ", writing it with Java serialization", e);
                    return javaSerialized(value, attempt);
                }
            }
        }
        if (concurrentModification != null) {
            throw concurrentlyModified(value, concurrentModification);
        }
        return javaSerialized(value, MAX_ATTEMPTS);
    }

    /** The whole value with Java serialization, in the attempts left to the encode. */
    private static byte[] javaSerialized(Object value, int attemptsUsed) throws SerializationException {
        for (int attempt = attemptsUsed; ; attempt++) {
            try {
                return JdkCodec.write(value);
            } catch (SerializationException e) {
                if (!(e.getCause() instanceof java.util.ConcurrentModificationException cme)) {
                    throw e;
                }
                if (attempt >= MAX_ATTEMPTS) {
                    throw concurrentlyModified(value, cme);
                }
                Thread.yield();
            }
        }
    }

    private static SerializationException concurrentlyModified(Object value, RuntimeException cause) {
        return new SerializationException(value.getClass().getName() + " was modified by another thread while"
                + " being serialized, " + MAX_ATTEMPTS + " times", cause);
    }

    /**
     * The first value that brings a class to Kryo is read back at once: if Kryo cannot read what
     * it wrote, the class goes to Java serialization before any such bytes reach Redis.
     */
    private static void verifyFreshClasses(SessionKryo kryo, byte[] bytes) {
        List<Class<?>> fresh = kryo.freshKryoClasses();
        if (fresh.isEmpty()) {
            return;
        }
        try {
            kryo.read(bytes);
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            if (CodecSignal.in(e) instanceof CodecSignal.KryoFailedOnClass failed) {
                throw failed;
            }
            // a class the filter rejects, or a value too deep or too expanding to read back, is not Kryo's failure
            if (RejectedClassException.in(e) == null && CollectionExpansion.LimitExceeded.in(e) == null
                    && !(e instanceof StackOverflowError)
                    && !(e.getCause() instanceof StackOverflowError)) {
                throw new CodecSignal.KryoFailedOnClass(fresh.get(0), e);
            }
        }
    }

    private SessionKryo obtain() {
        SessionKryo kryo = pool.obtain();
        while (kryo.isStale()) {
            kryo = SessionKryo.create(classLoader, filter, policy);
        }
        return kryo;
    }

    @Override
    public Object decode(byte[] bytes) throws SerializationException {
        if (bytes == null || bytes.length == 0) {
            throw new SerializationException("no bytes to deserialize");
        }
        if (bytes.length >= 2 && bytes[0] == (byte) 0xAC && bytes[1] == (byte) 0xED) {
            return JdkCodec.read(bytes, classLoader, filter);
        }
        if (bytes[0] == FORMAT_2) {
            SessionKryo kryo = obtain();
            try {
                Object value = kryo.read(bytes);
                pool.free(kryo);
                return value;
            } catch (RuntimeException | StackOverflowError | LinkageError e) {
                // no change of policy here: the bytes may be from another deploy (a field whose
                // type changed), which is not Kryo's failure; encode verifies new classes itself
                throw decodeFailure(e);
            }
        }
        Kryo legacy = legacyPool.obtain();
        try (Input input = new Input(bytes)) {
            Object value = legacy.readClassAndObject(input);
            legacyPool.free(legacy);
            return value;
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            throw decodeFailure(e);
        }
    }

    private static SerializationException decodeFailure(Throwable e) {
        RuntimeException refused = RejectedClassException.in(e);
        if (refused == null) {
            refused = CollectionExpansion.LimitExceeded.in(e);
        }
        if (refused != null) {
            return new SerializationException(refused.getMessage(), e);
        }
        return new SerializationException("Kryo deserialization failed: " + rootMessage(e), e);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root + ")";
    }
}
