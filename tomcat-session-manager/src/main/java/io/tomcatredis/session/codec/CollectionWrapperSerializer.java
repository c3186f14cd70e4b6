package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
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
 * Serializes {@code Collections.unmodifiable*} and {@code Collections.synchronized*} wrappers,
 * whose fields reflection cannot open on Java 17: the content is written as a plain copy of the
 * matching type (sorted ones keep their comparator) and wrapped again on read.
 */
final class CollectionWrapperSerializer extends Serializer<Object> {

    private final UnaryOperator<Object> copy;
    private final UnaryOperator<Object> wrap;

    private CollectionWrapperSerializer(UnaryOperator<Object> copy, UnaryOperator<Object> wrap) {
        this.copy = copy;
        this.wrap = wrap;
    }

    @Override
    public void write(Kryo kryo, Output output, Object wrapper) {
        kryo.writeClassAndObject(output, copy.apply(wrapper));
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<?> type) {
        return wrap.apply(kryo.readClassAndObject(input));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static void registerAll(Kryo kryo) {
        UnaryOperator<Object> list = c -> new ArrayList<>((Collection) c);
        UnaryOperator<Object> set = c -> new LinkedHashSet<>((Collection) c);
        UnaryOperator<Object> sortedSet = c -> new TreeSet<>((SortedSet) c);
        UnaryOperator<Object> map = m -> new LinkedHashMap<>((Map) m);
        UnaryOperator<Object> sortedMap = m -> new TreeMap<>((SortedMap) m);

        // Kryo matches default serializers in registration order with isAssignableFrom, and these
        // wrapper classes extend each other: register the most specific first.
        register(kryo, Collections.unmodifiableNavigableSet(new TreeSet<>()), sortedSet,
                c -> Collections.unmodifiableNavigableSet((NavigableSet) c));
        register(kryo, Collections.unmodifiableSortedSet(new TreeSet<>()), sortedSet,
                c -> Collections.unmodifiableSortedSet((SortedSet) c));
        register(kryo, Collections.unmodifiableSet(new LinkedHashSet<>()), set, c -> Collections.unmodifiableSet((Set) c));
        register(kryo, Collections.unmodifiableList(new ArrayList<>()), list, c -> Collections.unmodifiableList((List) c));
        register(kryo, Collections.unmodifiableList(new LinkedList<>()), list,
                c -> Collections.unmodifiableList(new LinkedList<>((List) c)));
        register(kryo, Collections.unmodifiableCollection(new ArrayList<>()), list,
                c -> Collections.unmodifiableCollection((Collection) c));
        register(kryo, Collections.unmodifiableNavigableMap(new TreeMap<>()), sortedMap,
                m -> Collections.unmodifiableNavigableMap((NavigableMap) m));
        register(kryo, Collections.unmodifiableSortedMap(new TreeMap<>()), sortedMap,
                m -> Collections.unmodifiableSortedMap((SortedMap) m));
        register(kryo, Collections.unmodifiableMap(new LinkedHashMap<>()), map, m -> Collections.unmodifiableMap((Map) m));

        register(kryo, Collections.synchronizedNavigableSet(new TreeSet<>()), synchronizedCopy(sortedSet),
                c -> Collections.synchronizedNavigableSet((NavigableSet) c));
        register(kryo, Collections.synchronizedSortedSet(new TreeSet<>()), synchronizedCopy(sortedSet),
                c -> Collections.synchronizedSortedSet((SortedSet) c));
        register(kryo, Collections.synchronizedSet(new LinkedHashSet<>()), synchronizedCopy(set),
                c -> Collections.synchronizedSet((Set) c));
        register(kryo, Collections.synchronizedList(new ArrayList<>()), synchronizedCopy(list),
                c -> Collections.synchronizedList((List) c));
        register(kryo, Collections.synchronizedList(new LinkedList<>()), synchronizedCopy(list),
                c -> Collections.synchronizedList(new LinkedList<>((List) c)));
        register(kryo, Collections.synchronizedCollection(new ArrayList<>()), synchronizedCopy(list),
                c -> Collections.synchronizedCollection((Collection) c));
        register(kryo, Collections.synchronizedNavigableMap(new TreeMap<>()), synchronizedCopy(sortedMap),
                m -> Collections.synchronizedNavigableMap((NavigableMap) m));
        register(kryo, Collections.synchronizedSortedMap(new TreeMap<>()), synchronizedCopy(sortedMap),
                m -> Collections.synchronizedSortedMap((SortedMap) m));
        register(kryo, Collections.synchronizedMap(new LinkedHashMap<>()), synchronizedCopy(map),
                m -> Collections.synchronizedMap((Map) m));
    }

    /** Copies a synchronized wrapper while holding its lock, as its Javadoc requires for iteration. */
    private static UnaryOperator<Object> synchronizedCopy(UnaryOperator<Object> copy) {
        return wrapper -> {
            synchronized (wrapper) {
                return copy.apply(wrapper);
            }
        };
    }

    private static void register(Kryo kryo, Object example, UnaryOperator<Object> copy, UnaryOperator<Object> wrap) {
        kryo.addDefaultSerializer(example.getClass(), new CollectionWrapperSerializer(copy, wrap));
    }
}
