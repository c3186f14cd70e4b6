package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * The {@code Collections.unmodifiable*} wrappers, which frameworks put everywhere (Spring
 * Security's authorities, for one): Kryo writes the very collection the wrapper wraps (so its
 * class, comparator, access order and sharing with the rest of the value are kept) and the
 * reader wraps it again with the same factory. Reflection cannot open the wrapper on Java 17;
 * the wrapped collection is what Java serialization itself writes as the wrapper's state (its
 * serialized form has that one field), so {@link InnerCapture} takes it from there.
 *
 * <p>When that is not possible (the wrapped object is one Kryo must not write, or wrapping it
 * again would not give the same class), the wrapper is written with Java serialization, flagged.
 */
final class UnmodifiableWrapperSerializer extends Serializer<Object> {

    /** Wrapper class to the factory that builds it; each wrapper's serialized form is its one wrapped object. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static final Map<Class<?>, UnaryOperator<Object>> WRAPPERS = Map.of(
            Collections.unmodifiableCollection(new ArrayList<>()).getClass(),
            c -> Collections.unmodifiableCollection((Collection) c),
            Collections.unmodifiableList(new ArrayList<>()).getClass(), c -> Collections.unmodifiableList((List) c),
            Collections.unmodifiableList(new LinkedList<>()).getClass(), c -> Collections.unmodifiableList((List) c),
            Collections.unmodifiableSet(new LinkedHashSet<>()).getClass(), c -> Collections.unmodifiableSet((Set) c),
            Collections.unmodifiableSortedSet(new TreeSet<>()).getClass(),
            c -> Collections.unmodifiableSortedSet((SortedSet) c),
            Collections.unmodifiableNavigableSet(new TreeSet<>()).getClass(),
            c -> Collections.unmodifiableNavigableSet((NavigableSet) c),
            Collections.unmodifiableMap(new LinkedHashMap<>()).getClass(), m -> Collections.unmodifiableMap((Map) m),
            Collections.unmodifiableSortedMap(new TreeMap<>()).getClass(),
            m -> Collections.unmodifiableSortedMap((SortedMap) m),
            Collections.unmodifiableNavigableMap(new TreeMap<>()).getClass(),
            m -> Collections.unmodifiableNavigableMap((NavigableMap) m));

    private final EmbeddedJavaSerializer java;

    UnmodifiableWrapperSerializer(EmbeddedJavaSerializer java) {
        this.java = java;
    }

    @Override
    public void write(Kryo kryo, Output output, Object wrapper) {
        SessionKryo session = (SessionKryo) kryo;
        Object inner = session.wrappedBy(wrapper);
        boolean rewrappable = inner != null && session.writesWithKryo(inner.getClass())
                && WRAPPERS.get(wrapper.getClass()).apply(inner).getClass() == wrapper.getClass();
        output.writeBoolean(rewrappable);
        if (!rewrappable) {
            java.write(kryo, output, wrapper);
            return;
        }
        session.enterWrapper(wrapper);
        try {
            kryo.writeClassAndObject(output, inner);
        } finally {
            session.exitWrapper(wrapper);
        }
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<?> type) {
        if (!input.readBoolean()) {
            return java.read(kryo, input, type);
        }
        return WRAPPERS.get(type).apply(kryo.readClassAndObject(input));
    }

    /**
     * Finds the object that Java serialization writes as a wrapper's state: writes the wrapper to
     * nowhere and takes the first object after it, writing null in its place and in place of
     * every object after it, so that nothing but the wrapper is serialized. (That object is the
     * result of its {@code writeReplace}, if it has one; such a class is never written by Kryo,
     * so the caller then falls back to Java serialization of the whole wrapper.) The write ends
     * normally rather than by an exception, which would cost more than the rest of it, unwinding
     * the stream's frames. One per Kryo instance.
     */
    static final class InnerCapture extends ObjectOutputStream {
        private Object inner;
        private int seen;

        InnerCapture() throws IOException {
            super(OutputStream.nullOutputStream());
            enableReplaceObject(true);
        }

        /** The wrapped object, or null when it could not be found. */
        Object wrappedBy(Object wrapper) {
            inner = null;
            seen = 0;
            try {
                reset();
                writeObject(wrapper);
            } catch (IOException | RuntimeException e) {
                return null;
            }
            Object found = inner;
            inner = null;
            return found;
        }

        @Override
        protected Object replaceObject(Object object) {
            seen++;
            if (seen == 1) {
                return object; // the wrapper (or its writeReplace result)
            }
            if (seen == 2) {
                inner = object;
            }
            return null;
        }
    }
}
