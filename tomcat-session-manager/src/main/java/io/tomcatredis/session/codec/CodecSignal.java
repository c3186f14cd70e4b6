package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.KryoException;
import java.util.ConcurrentModificationException;

/**
 * Control flow from deep inside a Kryo stream up to {@link KryoCodec}. A {@link KryoException}, so
 * that Kryo's field serializers add their trace and pass it on unwrapped.
 */
abstract sealed class CodecSignal extends KryoException {

    CodecSignal(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // control flow: the cause carries the stack that matters
    }

    /** The first signal in the cause chain of {@code failure}, or null. */
    static CodecSignal in(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CodecSignal signal) {
                return signal;
            }
        }
        return null;
    }

    /** The first ConcurrentModificationException in the cause chain of {@code failure}, or null. */
    static ConcurrentModificationException concurrentModification(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConcurrentModificationException cme) {
                return cme;
            }
        }
        return null;
    }

    /**
     * One object is reachable both from an object written by Kryo and from one written by Java
     * serialization (or from two Java-serialized parts), or a cycle runs back to an unmodifiable
     * wrapper: Kryo cannot keep that sharing, so the whole value is written with Java
     * serialization, which does.
     */
    static final class SharedAcrossFormats extends CodecSignal {
        SharedAcrossFormats(Object shared) {
            super("an instance of " + shared.getClass().getName()
                    + " is shared in a way only Java serialization keeps", null);
        }
    }

    /** Kryo failed on an instance of {@link #type}: that class goes to Java serialization from now on. */
    static final class KryoFailedOnClass extends CodecSignal {
        final Class<?> type;

        KryoFailedOnClass(Class<?> type, Throwable cause) {
            super("Kryo failed on " + type.getName() + ": " + cause, cause);
            this.type = type;
        }
    }

    /** Java serialization itself failed, as it would with serializer="java": final. */
    static final class JavaSerializationFailed extends CodecSignal {
        JavaSerializationFailed(Class<?> type, Throwable cause) {
            super("Java serialization of " + type.getName() + " failed: " + cause, cause);
        }
    }
}
