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
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * The Kryo instance of format 2. Each object is written as {@link SerializationPolicy} decides for
 * its class, before Kryo's own defaults are consulted (they would claim a subclass of
 * {@code LinkedHashMap}, for instance, and lose its fields); for any class but the JDK types Kryo
 * writes faithfully, the choice is written before the object ({@link ChoosingSerializer}), so the
 * reader follows the writer even when their decisions differ (a fallback decided at run time on
 * one node, or another version). Otherwise configured as format 1:
 * <ul>
 *   <li>references on, so shared and cyclic object graphs survive;</li>
 *   <li>no registration: class names are written, resolved with the webapp's class loader and
 *       checked against the {@link ClassFilter} before anything is instantiated;</li>
 *   <li>{@link CompatibleFieldSerializer} for application classes, so a field added or removed
 *       between two deploys keeps old sessions readable, as with Java serialization;</li>
 *   <li>enums by name, so reordering constants between deploys is harmless.</li>
 * </ul>
 * Not thread-safe, like any Kryo; {@link KryoCodec} pools them.
 */
final class SessionKryo extends Kryo {

    private static final StdInstantiatorStrategy NO_CONSTRUCTOR = new StdInstantiatorStrategy();
    /** Bytes of the output buffer at first, enough for a small value. */
    private static final int BUFFER_SIZE = 256;
    /** Bytes beyond which a grown output buffer is dropped after the value, not kept in the pool. */
    private static final int KEPT_BUFFER_SIZE = 16 * 1024;
    private static final byte[] NO_BYTES = {};

    private final SerializationPolicy policy;
    private final int generation;
    private final EmbeddedJavaSerializer java;
    private final LocaleSerializer locale;
    private final UnmodifiableWrapperSerializer unmodifiableWrappers;
    private UnmodifiableWrapperSerializer.InnerCapture innerCapture;
    /** The unmodifiable wrappers being written, whose wrapped collection Kryo is writing. */
    private final IdentityHashMap<Object, Boolean> wrappersInProgress = new IdentityHashMap<>();
    private final Resolver references;
    /** The streams of each value written and read, reused: the written bytes are copied out. */
    private final Output output = new Output(BUFFER_SIZE, -1);
    private final Input input = new Input(NO_BYTES);
    /** This instance's copy of the policy's decisions: true for Kryo. */
    private final IdentityHashMap<Class<?>, Boolean> writesWithKryo = new IdentityHashMap<>();

    /** Classes that the policy decided for Kryo for the first time during the current value. */
    private final List<Class<?>> freshKryoClasses = new ArrayList<>();
    private boolean lastAttempt;
    /** Objects written by Java serialization in the current value; null while there are none. */
    private IdentityHashMap<Object, Boolean> writtenByJava;

    private SessionKryo(Resolver references, ClassLoader classLoader, ClassFilter filter, SerializationPolicy policy) {
        super(new FilteringClassResolver(filter), references);
        this.references = references;
        this.policy = policy;
        this.generation = policy.generation();
        this.java = new EmbeddedJavaSerializer(classLoader, filter);
        this.locale = new LocaleSerializer(java);
        this.unmodifiableWrappers = new UnmodifiableWrapperSerializer(java);
        setClassLoader(classLoader);
        setRegistrationRequired(false);
        setWarnUnregisteredClasses(false);
        setReferences(true);
        setInstantiatorStrategy(new DefaultInstantiatorStrategy(NO_CONSTRUCTOR));
        CompatibleFieldSerializer.CompatibleFieldSerializerConfig config =
                new CompatibleFieldSerializer.CompatibleFieldSerializerConfig();
        // Each field value is written with its class, so a field removed since is read and
        // skipped, and a field whose type changed is detected. No chunked encoding (format 1 had
        // it): it doubled the time of a typical session, and only served to skip a removed field
        // whose class was removed too, which Java serialization refuses as well.
        config.setReadUnknownFieldData(true);
        setDefaultSerializer(new SerializerFactory.CompatibleFieldSerializerFactory(config));
        // Kryo writes every lambda under this one name; a serializable lambda goes through its
        // SerializedLambda, as with Java serialization (its own hidden class name is not loadable).
        register(ClosureSerializer.Closure.class, java);
        // Likewise every dynamic proxy, under InvocationHandler (see FilteringClassResolver.writeClass).
        register(InvocationHandler.class, java);
    }

    static SessionKryo create(ClassLoader classLoader, ClassFilter filter, SerializationPolicy policy) {
        return new SessionKryo(new Resolver(), classLoader, filter, policy);
    }

    /** Whether a decision of the policy changed since this instance was configured. */
    boolean isStale() {
        return generation != policy.generation();
    }

    /** The policy's decision for {@code type}, remembered by this instance. */
    boolean writesWithKryo(Class<?> type) {
        Boolean kryo = writesWithKryo.get(type);
        if (kryo == null) {
            boolean fresh = !policy.isDecided(type);
            kryo = policy.decide(type).kryo();
            writesWithKryo.put(type, kryo);
            if (fresh && kryo && isGuarded(type)) {
                freshKryoClasses.add(type);
            }
        }
        return kryo;
    }

    private static boolean isGuarded(Class<?> type) {
        return !type.isArray() && !type.isPrimitive() && !SerializationPolicy.KRYO_JDK_TYPES.contains(type)
                && !UnmodifiableWrapperSerializer.WRAPPERS.containsKey(type);
    }

    /**
     * Kryo's own serializers for the JDK types it writes faithfully, enums by name; for any other
     * class a {@link ChoosingSerializer}, which writes the policy's choice before the object.
     */
    @Override
    @SuppressWarnings({"rawtypes", "unchecked"})
    public Serializer getDefaultSerializer(Class type) {
        if (type == Locale.class) {
            return locale;
        }
        if (UnmodifiableWrapperSerializer.WRAPPERS.containsKey(type)) {
            return unmodifiableWrappers;
        }
        Serializer<?> snapshot = SnapshotSerializers.forType(type);
        if (snapshot != null) {
            return snapshot;
        }
        if (type.isEnum()) {
            return new EnumNameSerializer(type);
        }
        if (!isGuarded(type)) {
            Serializer<?> own = super.getDefaultSerializer(type);
            // Set.of and Map.of hash their elements while Kryo reads them
            return Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type)
                    ? new CollectionExpansion.Checked<>(own) : own;
        }
        return new ChoosingSerializer(type, java, () -> new GuardedSerializer(type, super.getDefaultSerializer(type)));
    }

    /** Whether the current write is the codec's last attempt at this value. */
    boolean isLastAttempt() {
        return lastAttempt;
    }

    /**
     * Writes {@code value} in format 2: the format byte, then the Kryo stream. On the last attempt,
     * a collection changed meanwhile is stored as the snapshot taken of it.
     */
    byte[] write(Object value, boolean lastAttempt) {
        this.lastAttempt = lastAttempt;
        freshKryoClasses.clear();
        output.reset();
        output.writeByte(KryoCodec.FORMAT_2);
        writeClassAndObject(output, value);
        byte[] bytes = output.toBytes();
        if (output.getBuffer().length > KEPT_BUFFER_SIZE) {
            output.setBuffer(new byte[BUFFER_SIZE], -1);
        }
        return bytes;
    }

    /** Reads a value of format 2; {@code bytes[0]} is the format byte. */
    Object read(byte[] bytes) {
        input.setBuffer(bytes, 1, bytes.length - 1);
        try {
            return readClassAndObject(input);
        } finally {
            input.setBuffer(NO_BYTES); // a pooled instance keeps no value's bytes
        }
    }

    /** Application classes decided for Kryo for the first time while writing the last value. */
    List<Class<?>> freshKryoClasses() {
        return freshKryoClasses;
    }

    /** The collection an unmodifiable wrapper wraps, or null; see {@link UnmodifiableWrapperSerializer}. */
    Object wrappedBy(Object wrapper) {
        if (innerCapture == null) {
            try {
                innerCapture = new UnmodifiableWrapperSerializer.InnerCapture();
            } catch (java.io.IOException e) {
                return null; // never: the stream writes nowhere
            }
        }
        return innerCapture.wrappedBy(wrapper);
    }

    void enterWrapper(Object wrapper) {
        wrappersInProgress.put(wrapper, Boolean.TRUE);
    }

    void exitWrapper(Object wrapper) {
        wrappersInProgress.remove(wrapper);
    }

    /** Called by {@link EmbeddedJavaSerializer} for each object its Java stream writes. */
    void writtenByJava(Object object, boolean isStreamRoot) {
        if (policy.isImmutableValue(object.getClass())) {
            return;
        }
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
        if (!wrappersInProgress.isEmpty()) { // only after a failure; clear() would wipe the whole table
            wrappersInProgress.clear();
        }
    }

    /** Kryo's reference map, which also refuses an object already written by Java serialization. */
    private static final class Resolver extends MapReferenceResolver {
        @Override
        public int getWrittenId(Object object) {
            int id = super.getWrittenId(object);
            if (id != -1 && ((SessionKryo) kryo).wrappersInProgress.containsKey(object)) {
                // a cycle back to a wrapper, which the reader can only build after what it wraps
                throw new CodecSignal.SharedAcrossFormats(object);
            }
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

        /**
         * Kryo writes a dynamic proxy with InvocationHandler's serializer but under the name of its
         * generated class, which no other JVM can load: name InvocationHandler instead.
         */
        @Override
        @SuppressWarnings("rawtypes")
        public Registration writeClass(Output output, Class type) {
            return super.writeClass(output, type != null && Proxy.isProxyClass(type) ? InvocationHandler.class : type);
        }

        @Override
        protected Registration readName(Input input) {
            Registration registration = super.readName(input);
            filter.checkKryoClass(registration.getType());
            return registration;
        }
    }

    /**
     * Java serialization never runs a constructor of a {@code Serializable} class when it reads
     * one (transient fields keep their defaults, constructor side effects do not happen, a
     * constructor that needs a request never fails); application classes read by Kryo get the
     * same. JDK classes (named modules) keep Kryo's default, which their serializers rely on.
     */
    @Override
    @SuppressWarnings({"rawtypes", "unchecked"})
    protected org.objenesis.instantiator.ObjectInstantiator newInstantiator(Class type) {
        if (java.io.Serializable.class.isAssignableFrom(type) && !type.isRecord() && !type.getModule().isNamed()) {
            return NO_CONSTRUCTOR.newInstantiatorOf(type);
        }
        return super.newInstantiator(type);
    }
}