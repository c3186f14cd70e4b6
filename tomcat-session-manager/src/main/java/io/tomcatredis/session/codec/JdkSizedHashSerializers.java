package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.serializers.MapSerializer;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;

/**
 * {@link HashMap} and {@link HashSet} rebuilt with the table size their own {@code readObject}
 * gives them: iteration order depends on it, and Kryo's own serializers size them differently
 * (a two-entry map read back by Kryo could iterate in another order than after Java serialization,
 * and keep doing so as entries are added).
 */
final class JdkSizedHashSerializers {

    private static final int MAXIMUM_CAPACITY = 1 << 30;

    private JdkSizedHashSerializers() {
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

    static final class HashMapSerializer extends MapSerializer<Map<Object, Object>> {
        @Override
        protected Map<Object, Object> create(Kryo kryo, Input input, Class<? extends Map<Object, Object>> type,
                int size) {
            return new HashMap<>(hashMapCapacity(size));
        }
    }

    static final class HashSetSerializer extends CollectionSerializer<Collection<Object>> {
        @Override
        protected Collection<Object> create(Kryo kryo, Input input, Class<? extends Collection<Object>> type,
                int size) {
            return new HashSet<>(hashSetCapacity(size));
        }
    }
}
