package io.tomcatredis.session.codec;

/** A value could not be turned into bytes, or bytes back into a value. */
public final class SerializationException extends Exception {

    public SerializationException(String message) {
        super(message);
    }

    public SerializationException(String message, Throwable cause) {
        super(message, cause);
    }
}
