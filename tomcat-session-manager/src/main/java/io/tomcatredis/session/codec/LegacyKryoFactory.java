package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.SerializerFactory;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.CompatibleFieldSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers;
import com.esotericsoftware.kryo.serializers.ImmutableCollectionsSerializers;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import com.esotericsoftware.kryo.util.MapReferenceResolver;
import java.io.Externalizable;
import java.io.Serializable;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * The Kryo configuration of values written before {@link KryoCodec#FORMAT_2} (release 0.1), kept
 * only to read them: those values decode exactly as they did, and are written again in format 2
 * on their next change. Configures Kryo as follows:
 * <ul>
 *   <li>references on, so shared and cyclic object graphs survive;</li>
 *   <li>no registration: class names are written, resolved with the webapp's class loader and
 *       checked against the {@link ClassFilter} before anything is instantiated;</li>
 *   <li>{@link CompatibleFieldSerializer} with chunked encoding for application classes, so a field
 *       added or removed between two deploys keeps old sessions readable;</li>
 *   <li>explicit serializers for JDK types that reflection cannot open on Java 17 (UUID, atomics,
 *       immutable, unmodifiable and synchronized collections); any other JDK class, and any class
 *       with its own {@code writeObject}/{@code readObject}/{@code writeReplace}, goes through
 *       Java serialization inside the Kryo stream.</li>
 * </ul>
 */
final class LegacyKryoFactory {

    private LegacyKryoFactory() {
    }

    static Kryo create(ClassLoader classLoader, ClassFilter filter) {
        Kryo kryo = new Kryo(new FilteringClassResolver(filter), new MapReferenceResolver()) {
            /** Kryo's collection and map serializers hash elements as they read them. */
            @Override
            @SuppressWarnings({"rawtypes", "unchecked"})
            public Serializer getDefaultSerializer(Class type) {
                Serializer serializer = super.getDefaultSerializer(type);
                return Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type)
                        ? new CollectionExpansion.Checked<>(serializer) : serializer;
            }
        };
        kryo.setClassLoader(classLoader);
        kryo.setRegistrationRequired(false);
        kryo.setWarnUnregisteredClasses(false);
        kryo.setReferences(true);
        kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
        kryo.setDefaultSerializer(new SessionSerializerFactory(classLoader, filter));

        kryo.addDefaultSerializer(UUID.class, new DefaultSerializers.UUIDSerializer());
        kryo.addDefaultSerializer(AtomicLong.class, new DefaultSerializers.AtomicLongSerializer());
        kryo.addDefaultSerializer(AtomicInteger.class, new DefaultSerializers.AtomicIntegerSerializer());
        kryo.addDefaultSerializer(AtomicBoolean.class, new DefaultSerializers.AtomicBooleanSerializer());
        kryo.addDefaultSerializer(Arrays.asList().getClass(), new DefaultSerializers.ArraysAsListSerializer());
        // EnumMap keeps its key type in a private field: Java serialization writes it, reflection cannot read it.
        kryo.addDefaultSerializer(EnumMap.class, new JdkSerializer(classLoader, filter));
        ImmutableCollectionsSerializers.addDefaultSerializers(kryo);
        CollectionWrapperSerializer.registerAll(kryo);
        return kryo;
    }

    /** Chooses the serializer for types that no default serializer claims. */
    private static final class SessionSerializerFactory implements SerializerFactory<Serializer<?>> {
        private final JdkSerializer jdk;
        private final CompatibleFieldSerializer.CompatibleFieldSerializerConfig config;

        SessionSerializerFactory(ClassLoader classLoader, ClassFilter filter) {
            this.jdk = new JdkSerializer(classLoader, filter);
            this.config = new CompatibleFieldSerializer.CompatibleFieldSerializerConfig();
            config.setReadUnknownFieldData(true);
            config.setChunkedEncoding(true);
        }

        @Override
        public Serializer<?> newSerializer(Kryo kryo, Class type) {
            if (needsJavaSerialization(type)) {
                return jdk;
            }
            return new CompatibleFieldSerializer<>(kryo, type, config);
        }

        @Override
        public boolean isSupported(Class type) {
            return true;
        }
    }

    /**
     * JDK classes cannot be opened by reflection on Java 17, and classes that customise their
     * serialization expect it to be honoured (GenericPrincipal writes a replacement, for example).
     */
    static boolean needsJavaSerialization(Class<?> type) {
        if (!Serializable.class.isAssignableFrom(type) || type.isEnum() || type.isArray()) {
            return false;
        }
        if (Externalizable.class.isAssignableFrom(type) || type.getModule().isNamed()) {
            return true;
        }
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            if (declares(c, "writeObject", java.io.ObjectOutputStream.class)
                    || declares(c, "readObject", java.io.ObjectInputStream.class)
                    || declares(c, "writeReplace") || declares(c, "readResolve")) {
                return true;
            }
        }
        return false;
    }

    private static boolean declares(Class<?> type, String name, Class<?>... parameters) {
        try {
            Method method = type.getDeclaredMethod(name, parameters);
            return method != null;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** Checks every class named in the stream against the filter before Kryo may instantiate it. */
    private static final class FilteringClassResolver extends DefaultClassResolver {
        private final ClassFilter filter;

        FilteringClassResolver(ClassFilter filter) {
            this.filter = filter;
        }

        @Override
        protected Registration readName(Input input) {
            Registration registration = super.readName(input);
            filter.checkKryoClass(registration.getType());
            return registration;
        }
    }
}
