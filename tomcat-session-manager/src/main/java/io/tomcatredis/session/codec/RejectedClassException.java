package io.tomcatredis.session.codec;

/** Thrown inside Kryo when serialized data names a class that the {@link ClassFilter} rejects. */
final class RejectedClassException extends RuntimeException {

    RejectedClassException(Class<?> type, ClassFilter filter) {
        super("class " + type.getName() + " is rejected by serialFilter \"" + filter + "\"");
    }

    RejectedClassException(Class<?> type, String reason) {
        super("class " + type.getName() + " is rejected: it " + reason);
    }

    /** The first rejection in the cause chain of {@code failure}, or null. */
    static RejectedClassException in(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RejectedClassException rejected) {
                return rejected;
            }
        }
        return null;
    }
}
