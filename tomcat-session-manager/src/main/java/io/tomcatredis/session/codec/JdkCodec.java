package io.tomcatredis.session.codec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.lang.reflect.Proxy;

/** Java serialization ({@code serializer="java"}), resolving classes through the webapp's loader. */
final class JdkCodec implements AttributeCodec {

    private final ClassLoader classLoader;
    private final ClassFilter filter;
    /** Reads values written by the Kryo codec; created on first need. */
    private volatile KryoCodec kryoReader;

    JdkCodec(ClassLoader classLoader, ClassFilter filter) {
        this.classLoader = classLoader;
        this.filter = filter;
    }

    @Override
    public byte[] encode(Object value) throws SerializationException {
        if (value == null) {
            throw new SerializationException("null is not an attribute value (setAttribute(name, null) removes it)");
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return write(value);
            } catch (SerializationException e) {
                // modified by another request while being written: write it again, as KryoCodec does
                if (!(e.getCause() instanceof java.util.ConcurrentModificationException)
                        || attempt == KryoCodec.MAX_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Bytes that are not a Java serialization stream were written with {@code serializer="kryo"}
     * before the serializer was switched: they are read with the Kryo codec, so that switching
     * keeps sessions readable in both directions.
     */
    @Override
    public Object decode(byte[] bytes) throws SerializationException {
        if (bytes != null && bytes.length > 0 && bytes[0] != (byte) 0xAC) {
            return kryoReader().decode(bytes);
        }
        return read(bytes, classLoader, filter);
    }

    private KryoCodec kryoReader() {
        KryoCodec reader = kryoReader;
        if (reader == null) {
            reader = new KryoCodec(classLoader, filter);
            kryoReader = reader;
        }
        return reader;
    }

    static byte[] write(Object value) throws SerializationException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (IOException | RuntimeException | StackOverflowError | LinkageError e) {
            throw new SerializationException("Java serialization of " + value.getClass().getName() + " failed: " + e, e);
        }
        return bytes.toByteArray();
    }

    static Object read(byte[] bytes, ClassLoader classLoader, ClassFilter filter) throws SerializationException {
        Class<?>[] rejected = new Class<?>[1];
        try (ObjectInputStream in = new LoaderObjectInputStream(new ByteArrayInputStream(bytes), classLoader)) {
            ObjectInputFilter configured = filter.asObjectInputFilter();
            if (configured != null) {
                in.setObjectInputFilter(info -> {
                    ObjectInputFilter.Status status = configured.checkInput(info);
                    if (status == ObjectInputFilter.Status.REJECTED) {
                        rejected[0] = info.serialClass();
                    }
                    return status;
                });
            }
            return in.readObject();
        } catch (InvalidClassException e) {
            if (rejected[0] != null) {
                throw new SerializationException("class " + rejected[0].getName() + " is rejected by serialFilter \""
                        + filter + "\"", e);
            }
            throw new SerializationException("class " + e.classname + " is incompatible: " + e.getMessage(), e);
        } catch (ClassNotFoundException e) {
            throw new SerializationException("class not found: " + e.getMessage(), e);
        } catch (CollectionExpansion.LimitExceeded e) {
            throw new SerializationException(e.getMessage(), e);
        } catch (IOException | RuntimeException | StackOverflowError | LinkageError e) {
            throw new SerializationException("corrupt Java-serialized data: " + e, e);
        }
    }

    /**
     * Resolves classes with the webapp's loader, as the JAR itself sits in Tomcat's lib/, and
     * measures each collection as it is complete ({@link CollectionExpansion}).
     */
    private static final class LoaderObjectInputStream extends ObjectInputStream {
        private final ClassLoader classLoader;
        private final CollectionExpansion expansion = new CollectionExpansion();

        LoaderObjectInputStream(InputStream in, ClassLoader classLoader) throws IOException {
            super(in);
            this.classLoader = classLoader;
            enableResolveObject(true);
        }

        /** Called as each object is complete, before the object holding it (a HashSet...) hashes it. */
        @Override
        protected Object resolveObject(Object object) {
            expansion.completed(object);
            return object;
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            try {
                return Class.forName(desc.getName(), false, classLoader);
            } catch (ClassNotFoundException e) {
                return super.resolveClass(desc);
            }
        }

        /** A dynamic proxy of the webapp's interfaces is defined in the webapp's loader too. */
        @Override
        protected Class<?> resolveProxyClass(String[] interfaces) throws IOException, ClassNotFoundException {
            Class<?>[] types = new Class<?>[interfaces.length];
            try {
                for (int i = 0; i < interfaces.length; i++) {
                    types[i] = Class.forName(interfaces[i], false, classLoader);
                }
                return Proxy.newProxyInstance(classLoader, types, (proxy, method, arguments) -> null).getClass();
            } catch (ClassNotFoundException | IllegalArgumentException e) {
                return super.resolveProxyClass(interfaces);
            }
        }
    }
}
