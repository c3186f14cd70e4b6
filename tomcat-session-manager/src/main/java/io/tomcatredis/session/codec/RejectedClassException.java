package io.tomcatredis.session.codec;

/** Thrown inside Kryo when serialized data names a class that the {@link ClassFilter} rejects. */
final class RejectedClassException extends RuntimeException {

    RejectedClassException(Class<?> type, ClassFilter filter) {
        super("class " + type.getName() + " is rejected by serialFilter \"" + filter + "\"");
    }
}
