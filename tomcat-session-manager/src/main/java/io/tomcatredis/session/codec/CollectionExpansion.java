package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Bounds the work of reading one value, against the "SerialDOS" kind of input: the hash code of a
 * JDK collection or map is computed from its elements, recursively and without caching, so nested
 * sets that reference the same sets twice at each level (1.4 kB for 29 levels) make reading
 * them, which puts each element into a {@code HashSet} or {@code HashMap}, compute about 2^29 hash
 * codes: a minute of CPU, or days at 40 levels. Depth alone does not describe the danger (ten
 * levels of ten shared sets cost as much), the tree size does.
 *
 * <p>For each JDK collection and map read, this counts its <em>expanded size</em>: 1, plus for each
 * element (each key and each value of a map), 1, or the expanded size of that element when it is
 * itself a JDK collection or map; an element referenced twice is counted twice, as hashing visits it
 * twice. A value is refused ({@link LimitExceeded}) when one of its collections expands to more than
 * {@value #ALLOWANCE} elements beyond those actually read so far in the value: a value without
 * shared collections never expands beyond what it holds, a value that shares a list of tags among
 * 10,000 items stays far below, and hashing never visits more than about {@value #ALLOWANCE}
 * elements for any one collection added. The Kryo format checks a collection before building it
 * (before any element is hashed); JDK serialization (whose {@code HashSet.readObject} hashes
 * as it reads) is checked as each collection is complete, before the collection that holds it
 * hashes it.
 *
 * <p>Collections and maps of application classes are not iterated (an uninitialized ORM
 * collection throws when it is, and their hash codes are their own business). One instance per
 * value read; not thread-safe.
 */
final class CollectionExpansion {

    /** Elements that hashing may visit beyond the ones the value holds. */
    static final long ALLOWANCE = 1_000_000;

    private static final Object KEY = CollectionExpansion.class;

    /**
     * Whether instances of a class are measured: the JDK's collections and maps (named modules).
     * Kept with each class, as the interface checks cost more than the rest of a measure of a
     * set of strings.
     */
    private static final ClassValue<Boolean> MEASURED = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return (Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type))
                    && type.getModule().isNamed();
        }
    };

    private final IdentityHashMap<Object, Long> expandedSizes = new IdentityHashMap<>();
    private long elementsRead;

    /** The instance of the value {@code kryo} is reading (Kryo clears its graph context after each value). */
    static CollectionExpansion of(Kryo kryo) {
        Object expansion = kryo.getGraphContext().get(KEY);
        if (expansion == null) {
            expansion = new CollectionExpansion();
            kryo.getGraphContext().put(KEY, expansion);
        }
        return (CollectionExpansion) expansion;
    }

    /**
     * Checks a collection about to be built from {@code elements} (for a map: its keys and values).
     *
     * @return its expanded size, for {@link #built}
     * @throws LimitExceeded when it expands too far
     */
    long beforeBuilding(Class<?> type, Object[] elements) {
        elementsRead += elements.length;
        long size = 1;
        // Elements are mostly of one class (a set of ids, a list of line items): the class of the
        // last element found not measured counts 1 without another look-up, as does null.
        Class<?> unmeasured = null;
        for (Object element : elements) {
            Class<?> elementType = element == null ? null : element.getClass();
            if (elementType == unmeasured || elementType == null) {
                size = saturatedAdd(size, 1);
            } else if (MEASURED.get(elementType)) {
                size = saturatedAdd(size, expandedSize(element));
            } else {
                unmeasured = elementType;
                size = saturatedAdd(size, 1);
            }
        }
        check(type, size);
        return size;
    }

    /** Remembers the expanded size of a collection {@link #beforeBuilding} checked. */
    void built(Object collection, long expandedSize) {
        expandedSizes.put(collection, expandedSize);
    }

    /**
     * Checks a complete object: a JDK collection or map is measured (its elements are measured
     * already, or are measured now) before anything hashes it.
     *
     * @throws LimitExceeded when it expands too far
     */
    void completed(Object object) {
        if (isMeasured(object)) {
            // measured afresh: a cycle may have measured it while it was half read
            expandedSizes.remove(object);
            expandedSize(object);
        }
    }

    private long expandedSize(Object object) {
        if (!isMeasured(object)) {
            return 1;
        }
        Long known = expandedSizes.get(object);
        if (known != null) {
            return known;
        }
        expandedSizes.put(object, 1L); // a cycle back to it counts 1, as hashing it would overflow the stack anyway
        long size = 1;
        try {
            if (object instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    elementsRead += 2;
                    size = saturatedAdd(size, saturatedAdd(expandedSize(entry.getKey()), expandedSize(entry.getValue())));
                }
            } else {
                for (Object element : (Collection<?>) object) {
                    elementsRead++;
                    size = saturatedAdd(size, expandedSize(element));
                }
            }
        } catch (RuntimeException e) {
            // a JDK wrapper around a collection that cannot be iterated now (uninitialized ORM collection)
            size = 1;
        }
        expandedSizes.put(object, size);
        check(object.getClass(), size);
        return size;
    }

    private static boolean isMeasured(Object object) {
        return object != null && MEASURED.get(object.getClass());
    }

    private void check(Class<?> type, long expandedSize) {
        if (expandedSize > ALLOWANCE + elementsRead) {
            throw new LimitExceeded("a " + type.getName() + " expands to " + expandedSize
                    + " elements counted as hashing visits them, for " + elementsRead + " elements read (its"
                    + " collections reference the same collections over and over, as a deserialization bomb does);"
                    + " the limit is " + ALLOWANCE + " beyond the elements read");
        }
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    /** A value whose collections expand too far; its message says how far. */
    static final class LimitExceeded extends RuntimeException {
        LimitExceeded(String message) {
            super(message);
        }

        /** The first one in the cause chain of {@code failure}, or null. */
        static LimitExceeded in(Throwable failure) {
            for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof LimitExceeded exceeded) {
                    return exceeded;
                }
            }
            return null;
        }
    }

    /**
     * Kryo's own serializer of a JDK collection or map that hashes while it reads ({@code Set.of},
     * {@code Map.of}, and the format 1 ones), checking each one read before the collection holding
     * it hashes it; the format written is the delegate's.
     */
    static final class Checked<T> extends Serializer<T> {
        private final Serializer<T> delegate;

        Checked(Serializer<T> delegate) {
            super(delegate.getAcceptsNull(), delegate.isImmutable());
            this.delegate = delegate;
        }

        @Override
        public void write(Kryo kryo, Output output, T object) {
            delegate.write(kryo, output, object);
        }

        @Override
        public T read(Kryo kryo, Input input, Class<? extends T> type) {
            T object = delegate.read(kryo, input, type);
            if (object != null) {
                of(kryo).completed(object);
            }
            return object;
        }

        @Override
        public T copy(Kryo kryo, T original) {
            return delegate.copy(kryo, original);
        }
    }
}
