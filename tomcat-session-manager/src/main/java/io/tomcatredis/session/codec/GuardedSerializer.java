package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

/**
 * Wraps Kryo's serializer for one class so that a failure inside it is attributed to that class
 * ({@link CodecSignal.KryoFailedOnClass}); failures of nested objects are already attributed by
 * their own guard, and concurrent modifications and class-filter rejections are not Kryo's fault.
 */
final class GuardedSerializer<T> extends Serializer<T> {

    private final Class<?> type;
    private final Serializer<T> delegate;

    GuardedSerializer(Class<?> type, Serializer<T> delegate) {
        super(delegate.getAcceptsNull(), delegate.isImmutable());
        this.type = type;
        this.delegate = delegate;
    }

    @Override
    public void write(Kryo kryo, Output output, T object) {
        try {
            delegate.write(kryo, output, object);
        } catch (RuntimeException e) {
            throw attributed(e);
        }
    }

    @Override
    public T read(Kryo kryo, Input input, Class<? extends T> readType) {
        try {
            return delegate.read(kryo, input, readType);
        } catch (RuntimeException e) {
            throw attributed(e);
        }
    }

    @Override
    public T copy(Kryo kryo, T original) {
        return delegate.copy(kryo, original);
    }

    private static boolean isStackOverflow(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StackOverflowError) {
                return true;
            }
        }
        return false;
    }

    private RuntimeException attributed(RuntimeException failure) {
        CodecSignal signal = CodecSignal.in(failure);
        if (signal != null) {
            return signal;
        }
        if (CodecSignal.concurrentModification(failure) != null || RejectedClassException.in(failure) != null
                || CollectionExpansion.LimitExceeded.in(failure) != null || isStackOverflow(failure)) {
            return failure; // the value's state or depth, not this class
        }
        return new CodecSignal.KryoFailedOnClass(type, failure);
    }
}
