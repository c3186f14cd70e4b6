package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.SerializerFactory;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ClosureSerializer;
import com.esotericsoftware.kryo.serializers.CompatibleFieldSerializer;
import com.esotericsoftware.kryo.serializers.EnumNameSerializer;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import com.esotericsoftware.kryo.util.MapReferenceResolver;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * The Kryo instance of format 2: each class gets the serializer that {@link SerializationPolicy}
 * chose for it, before Kryo's own defaults are consulted (they would claim a subclass of
 * {@code LinkedHashMap}, for instance, and lose its fields). Otherwise configured as before:
 * <ul>
 *   <li>references on, so shared and cyclic object graphs survive;</li>
 *   <li>no registration: class names are written, resolved with the webapp's class loader and
 *       checked against the {@link ClassFilter} before anything is instantiated;</li>
 *   <li>{@link CompatibleFieldSerializer} with chunked encoding for application classes, so a field
 *       added or removed between two deploys keeps old sessions readable;</li>
 *   <li>enums by name, so reordering constants between deploys is harmless.</li>
 * </ul>
 * Not thread-safe, like any Kryo; {@link KryoCodec} pools them.
 */
final class SessionKryo extends Kryo {

    private final SerializationPolicy policy;
    private final int generation;
    private final EmbeddedJavaSerializer java;
    private final LocaleSerializer locale;
    private final Resolver references;

    /** Classes that the policy decided for Kryo for the first time during the current value. */
    private final List<Class<?>> freshKryoClasses = new ArrayList<>();
    /** Objects written by Java serialization in the current value; null while there are none. */
    private IdentityHashMap<Object, Boolean> writtenByJava;

    private SessionKryo(Resolver references, ClassLoader classLoader, ClassFilter filter, SerializationPolicy policy) {
        super(new FilteringClassResolver(filter), references);
        this.references = references;
        this.policy = policy;
        this.generation = policy.generation();
        this.java = new EmbeddedJavaSerializer(classLoader, filter);
        this.locale = new LocaleSerializer(java);
        setClassLoader(classLoader);
        setRegistrationRequired(false);
        setWarnUnregisteredClasses(false);
        setReferences(true);
        setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
        CompatibleFieldSerializer.CompatibleFieldSerializerConfig config =
                new CompatibleFieldSerializer.CompatibleFieldSerializerConfig();
        config.setReadUnknownFieldData(true);
        config.setChunkedEncoding(true);
        setDefaultSerializer(new SerializerFactory.CompatibleFieldSerializerFactory(config));
        // Kryo writes every lambda under this one name; a serializable lambda goes through its
        // SerializedLambda like with Java serialization.
        register(ClosureSerializer.Closure.class, java);
    }

    static SessionKryo create(ClassLoader classLoader, ClassFilter filter, SerializationPolicy policy) {
        return new SessionKryo(new Resolver(), classLoader, filter, policy);
    }

    /** Whether a decision of the policy changed since this instance was configured. */
    boolean isStale() {
        return generation != policy.generation();
    }

    @Override
    @SuppressWarnings({"rawtypes", "unchecked"})
    public Serializer getDefaultSerializer(Class type) {
        boolean fresh = !policy.isDecided(type);
        if (!policy.decide(type).kryo()) {
            return java;
        }
        if (type == Locale.class) {
            return locale;
        }
        if (type.isEnum()) {
            return new EnumNameSerializer(type);
        }
        Serializer serializer = super.getDefaultSerializer(type);
        if (type.isArray() || SerializationPolicy.KRYO_JDK_TYPES.contains(type)) {
            return serializer;
        }
        if (fresh) {
            freshKryoClasses.add(type);
        }
        return new GuardedSerializer(type, serializer);
    }

    /** Writes {@code value} in format 2: the format byte, then the Kryo stream. */
    byte[] write(Object value) {
        freshKryoClasses.clear();
        try (Output output = new Output(256, -1)) {
            output.writeByte(KryoCodec.FORMAT_2);
            writeClassAndObject(output, value);
            return output.toBytes();
        }
    }

    /** Reads a value of format 2; {@code bytes[0]} is the format byte. */
    Object read(byte[] bytes) {
        try (Input input = new Input(bytes, 1, bytes.length - 1)) {
            return readClassAndObject(input);
        }
    }

    /** Application classes decided for Kryo for the first time while writing the last value. */
    List<Class<?>> freshKryoClasses() {
        return freshKryoClasses;
    }

    /** Called by {@link EmbeddedJavaSerializer} for each object its Java stream writes. */
    void writtenByJava(Object object, boolean isStreamRoot) {
        if (writtenByJava == null) {
            writtenByJava = new IdentityHashMap<>();
        }
        if (!isStreamRoot && (references.writtenByKryo(object) || writtenByJava.containsKey(object))) {
            throw new CodecSignal.SharedAcrossFormats(object);
        }
        writtenByJava.put(object, Boolean.TRUE);
    }

    @Override
    public void reset() {
        super.reset();
        writtenByJava = null;
    }

    /** Kryo's reference map, which also refuses an object already written by Java serialization. */
    private static final class Resolver extends MapReferenceResolver {
        @Override
        public int getWrittenId(Object object) {
            int id = super.getWrittenId(object);
            if (id == -1) {
                IdentityHashMap<Object, Boolean> java = ((SessionKryo) kryo).writtenByJava;
                if (java != null && java.containsKey(object)) {
                    throw new CodecSignal.SharedAcrossFormats(object);
                }
            }
            return id;
        }

        boolean writtenByKryo(Object object) {
            return super.getWrittenId(object) != -1;
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
            if (!filter.allows(registration.getType())) {
                throw new RejectedClassException(registration.getType(), filter);
            }
            return registration;
        }
    }
}
