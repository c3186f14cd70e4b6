package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.ConcurrentModificationException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

/**
 * Kryo serializers for the mutable JDK collections and maps that Kryo writes, each writing a
 * snapshot: the elements are taken with one {@code toArray()} before anything is written, so the
 * count written always matches the elements written even when another request thread changes the
 * collection meanwhile (Kryo's own serializers write {@code size()}, then iterate, and can store a
 * stream that cannot be read back). A change that {@code toArray()} notices, or that changed the
 * size by the end of the write, throws {@link ConcurrentModificationException}, and the codec
 * writes the value again; its last attempt stores the snapshot.
 *
 * <p>Each is checked by {@link CollectionExpansion} before its elements are added (and hashed).
 * Read back as their own {@code readObject} rebuilds them: sorted ones with their comparator,
 * {@link HashMap} and {@link HashSet} with the table size it gives, so that they iterate in the same
 * order as after Java serialization (a non-default load factor is not kept).
 */
final class SnapshotSerializers {

    private static final int MAXIMUM_CAPACITY = 1 << 30;

    private SnapshotSerializers() {
    }

    /** The snapshot serializer of {@code type}, or null when Kryo's own is used. */
    static Serializer<?> forType(Class<?> type) {
        if (type == ArrayList.class) {
            return new CollectionSnapshot((comparator, size) -> new ArrayList<>(size));
        }
        if (type == LinkedList.class) {
            return new CollectionSnapshot((comparator, size) -> new LinkedList<>());
        }
        if (type == ArrayDeque.class) {
            return new CollectionSnapshot((comparator, size) -> new ArrayDeque<>(size));
        }
        if (type == CopyOnWriteArrayList.class) {
            return new CollectionSnapshot((comparator, size) -> new CopyOnWriteArrayList<>());
        }
        if (type == HashSet.class) {
            return new CollectionSnapshot((comparator, size) -> new HashSet<>(hashSetCapacity(size)));
        }
        if (type == LinkedHashSet.class) {
            return new CollectionSnapshot((comparator, size) -> new LinkedHashSet<>(hashSetCapacity(size)));
        }
        if (type == TreeSet.class) {
            return new CollectionSnapshot((comparator, size) -> new TreeSet<>(comparator));
        }
        if (type == HashMap.class) {
            return new MapSnapshot((comparator, size) -> new HashMap<>(hashMapCapacity(size)));
        }
        if (type == TreeMap.class) {
            return new MapSnapshot((comparator, size) -> new TreeMap<>(comparator));
        }
        return null;
    }

    /** As {@code HashMap.readObject}: at least 16, room for the entries at load factor 0.75. */
    static int hashMapCapacity(int size) {
        float fc = size / 0.75f + 1.0f;
        return fc < 16 ? 16 : fc >= MAXIMUM_CAPACITY ? MAXIMUM_CAPACITY : tableSizeFor((int) fc);
    }

    /** As {@code HashSet.readObject}: the entries at 75% of the capacity (the map rounds it up). */
    static int hashSetCapacity(int size) {
        return (int) Math.min(size * (1 / 0.75f), MAXIMUM_CAPACITY);
    }

    private static int tableSizeFor(int cap) {
        int n = -1 >>> Integer.numberOfLeadingZeros(cap - 1);
        return n < 0 ? 1 : n >= MAXIMUM_CAPACITY ? MAXIMUM_CAPACITY : n + 1;
    }

    /**
     * Writes {@code objects}: when all are non-null and of one class, a flag, that class once, then
     * each object (a set of 100 ids, a list of line items); otherwise each with its class.
     */
    private static void writeAll(Kryo kryo, Output output, Object[] objects) {
        Class<?> common = objects.length == 0 || objects[0] == null ? null : objects[0].getClass();
        for (int i = 1; i < objects.length && common != null; i++) {
            if (objects[i] == null || objects[i].getClass() != common) {
                common = null;
            }
        }
        output.writeBoolean(common != null);
        if (common == null) {
            for (Object object : objects) {
                kryo.writeClassAndObject(output, object);
            }
            return;
        }
        Registration registration = kryo.writeClass(output, common);
        for (Object object : objects) {
            kryo.writeObject(output, object, registration.getSerializer());
        }
    }

    private static Object[] readAll(Kryo kryo, Input input, int size) {
        Object[] objects = new Object[size];
        if (!input.readBoolean()) {
            for (int i = 0; i < size; i++) {
                objects[i] = kryo.readClassAndObject(input);
            }
            return objects;
        }
        Registration registration = kryo.readClass(input);
        for (int i = 0; i < size; i++) {
            objects[i] = kryo.readObject(input, registration.getType(), registration.getSerializer());
        }
        return objects;
    }

    /**
     * A collection whose size changed while it was written (by another thread, or by one of its
     * elements' own serialization) is written again, as Java serialization would refuse it; the last
     * attempt keeps the snapshot, which is consistent, rather than fail.
     */
    private static void checkUnchanged(Kryo kryo, int sizeNow, int written) {
        if (sizeNow != written && !((SessionKryo) kryo).isLastAttempt()) {
            throw new ConcurrentModificationException("changed while being written: " + written + " then " + sizeNow
                    + " elements");
        }
    }

    /** Writes the comparator (sorted types only), the count, then each element with its class. */
    private static final class CollectionSnapshot extends Serializer<Collection<Object>> {
        private final BiFunction<Comparator<Object>, Integer, Collection<Object>> create;

        CollectionSnapshot(BiFunction<Comparator<Object>, Integer, Collection<Object>> create) {
            this.create = create;
        }

        @Override
        public void write(Kryo kryo, Output output, Collection<Object> collection) {
            Object[] elements = collection.toArray();
            if (collection instanceof SortedSet<?> sorted) {
                kryo.writeClassAndObject(output, sorted.comparator());
            }
            output.writeVarInt(elements.length, true);
            writeAll(kryo, output, elements);
            checkUnchanged(kryo, collection.size(), elements.length);
        }

        @Override
        @SuppressWarnings("unchecked")
        public Collection<Object> read(Kryo kryo, Input input, Class<? extends Collection<Object>> type) {
            Comparator<Object> comparator = SortedSet.class.isAssignableFrom(type)
                    ? (Comparator<Object>) kryo.readClassAndObject(input) : null;
            int size = input.readVarInt(true);
            Collection<Object> collection = create.apply(comparator, size);
            kryo.reference(collection);
            Object[] elements = readAll(kryo, input, size);
            CollectionExpansion expansion = CollectionExpansion.of(kryo);
            long expandedSize = expansion.beforeBuilding(type, elements);
            for (Object element : elements) {
                collection.add(element);
            }
            expansion.built(collection, expandedSize);
            return collection;
        }
    }

    /** Writes the comparator (sorted types only), the count, then each key and value with its class. */
    private static final class MapSnapshot extends Serializer<Map<Object, Object>> {
        private final BiFunction<Comparator<Object>, Integer, Map<Object, Object>> create;

        MapSnapshot(BiFunction<Comparator<Object>, Integer, Map<Object, Object>> create) {
            this.create = create;
        }

        @Override
        public void write(Kryo kryo, Output output, Map<Object, Object> map) {
            Object[] entries = map.entrySet().toArray();
            if (map instanceof SortedMap<?, ?> sorted) {
                kryo.writeClassAndObject(output, sorted.comparator());
            }
            output.writeVarInt(entries.length, true);
            Object[] keys = new Object[entries.length];
            Object[] values = new Object[entries.length];
            for (int i = 0; i < entries.length; i++) {
                Map.Entry<?, ?> entry = (Map.Entry<?, ?>) entries[i];
                keys[i] = entry.getKey();
                values[i] = entry.getValue();
            }
            writeAll(kryo, output, keys);
            writeAll(kryo, output, values);
            checkUnchanged(kryo, map.size(), entries.length);
        }

        @Override
        @SuppressWarnings("unchecked")
        public Map<Object, Object> read(Kryo kryo, Input input, Class<? extends Map<Object, Object>> type) {
            Comparator<Object> comparator = SortedMap.class.isAssignableFrom(type)
                    ? (Comparator<Object>) kryo.readClassAndObject(input) : null;
            int size = input.readVarInt(true);
            Map<Object, Object> map = create.apply(comparator, size);
            kryo.reference(map);
            Object[] keys = readAll(kryo, input, size);
            Object[] values = readAll(kryo, input, size);
            Object[] keysAndValues = Arrays.copyOf(keys, 2 * size);
            System.arraycopy(values, 0, keysAndValues, size, size);
            CollectionExpansion expansion = CollectionExpansion.of(kryo);
            long expandedSize = expansion.beforeBuilding(type, keysAndValues);
            for (int i = 0; i < size; i++) {
                map.put(keys[i], values[i]);
            }
            expansion.built(map, expandedSize);
            return map;
        }
    }
}
