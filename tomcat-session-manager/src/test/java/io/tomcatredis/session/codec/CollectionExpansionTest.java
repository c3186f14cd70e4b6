package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Values whose collections reference the same collections over and over ("SerialDOS": reading
 * them hashes 2^depth times) are refused by both formats before the work explodes; values that
 * merely are big, or share a collection among many elements, are read as before. The timeout
 * only turns a regression (hours of hashing) into a failure.
 */
// In its own thread: a broken bound hashes for hours, which a timeout in the test thread cannot stop.
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CollectionExpansionTest {

    private static final int BOMB_DEPTH = 40;

    private final AttributeCodec kryo = AttributeCodec.create("kryo", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
    private final AttributeCodec java = AttributeCodec.create("java", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);

    @ParameterizedTest
    @ValueSource(strings = {"HashSet", "LinkedHashSet", "HashMap keys", "HashMap values"})
    void javaSerializedBombIsRefused(String kind) {
        byte[] bytes = javaSerialized(bomb(kind, BOMB_DEPTH));

        assertThatThrownBy(() -> java.decode(bytes)).isInstanceOf(SerializationException.class)
                .hasMessageContaining("expands to ");
        assertThatThrownBy(() -> kryo.decode(bytes)).isInstanceOf(SerializationException.class)
                .hasMessageContaining("expands to ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"HashSet", "LinkedHashSet", "HashMap keys", "HashMap values"})
    void kryoBombIsRefused(String kind) throws Exception {
        byte[] bytes = kryo.encode(bomb(kind, BOMB_DEPTH));
        assertThat(bytes[0]).isEqualTo(KryoCodec.FORMAT_2);

        assertThatThrownBy(() -> kryo.decode(bytes)).isInstanceOf(SerializationException.class)
                .hasMessageContaining("expands to ");
    }

    /** Release 0.1's format, which Kryo's own collection serializers read (hashing as they go). */
    @ParameterizedTest
    @ValueSource(strings = {"HashSet", "HashMap keys"})
    void bombInTheFormatOfRelease01IsRefused(String kind) {
        com.esotericsoftware.kryo.Kryo legacy = LegacyKryoFactory.create(getClass().getClassLoader(),
                ClassFilter.DENY_LIST_ONLY);
        byte[] bytes;
        try (com.esotericsoftware.kryo.io.Output output = new com.esotericsoftware.kryo.io.Output(256, -1)) {
            legacy.writeClassAndObject(output, bomb(kind, BOMB_DEPTH));
            bytes = output.toBytes();
        }
        assertThat(bytes[0]).isNotEqualTo(KryoCodec.FORMAT_2).isNotEqualTo((byte) 0xAC);

        assertThatThrownBy(() -> kryo.decode(bytes)).isInstanceOf(SerializationException.class)
                .hasMessageContaining("expands to ");
    }

    @Test
    void bombOfImmutableSetsIsRefused() throws Exception {
        // built bottom up, as Set.of hashes its elements: 22 levels cost this test 2^23 visits
        Set<Object> s1 = Set.of("foo");
        Set<Object> s2 = Set.of();
        for (int i = 0; i < 22; i++) {
            Set<Object> t1 = Set.of("foo", s1, s2);
            Set<Object> t2 = Set.of(s1, s2);
            s1 = t1;
            s2 = t2;
        }
        Set<Object> root = Set.of(s1, s2);
        byte[] kryoBytes = kryo.encode(new ArrayList<>(List.of(root)));
        byte[] javaBytes = javaSerialized(root);

        assertThatThrownBy(() -> kryo.decode(kryoBytes)).hasMessageContaining("expands to ");
        assertThatThrownBy(() -> java.decode(javaBytes)).hasMessageContaining("expands to ");
    }

    @Test
    void wideShallowBombIsRefused() throws Exception {
        // ten levels of ten sets, each holding all ten sets of the next level: 10^10 visits to hash
        int width = 10;
        int depth = 10;
        int marker = 0;
        List<List<Set<Object>>> levels = new ArrayList<>();
        for (int d = 0; d <= depth; d++) {
            List<Set<Object>> level = new ArrayList<>();
            for (int i = 0; i < width; i++) {
                Set<Object> set = new HashSet<>();
                set.add(marker++); // distinct and cheap to hash while the children are added, top down
                level.add(set);
            }
            levels.add(level);
        }
        for (int d = 0; d < depth; d++) {
            for (Set<Object> parent : levels.get(d)) {
                parent.addAll(levels.get(d + 1));
            }
        }
        Object value = new ArrayList<>(levels.get(0));

        assertThatThrownBy(() -> kryo.decode(kryo.encode(value))).hasMessageContaining("expands to ");
        assertThatThrownBy(() -> java.decode(javaSerialized(value))).hasMessageContaining("expands to ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void bigAndSharingValuesAreReadAsBefore(String serializer) throws Exception {
        AttributeCodec codec = "kryo".equals(serializer) ? kryo : java;
        List<Integer> big = new ArrayList<>(IntStream.range(0, 1_500_000).boxed().toList());
        List<String> tags = new ArrayList<>(IntStream.range(0, 50).mapToObj(i -> "tag" + i).toList());
        Map<String, Object> items = new HashMap<>();
        for (int i = 0; i < 10_000; i++) {
            items.put("item" + i, i % 2 == 0 ? tags : new Item("item" + i, tags));
        }
        Map<String, Set<List<String>>> nested = new HashMap<>(Map.of("a", new HashSet<>(Set.of(tags))));

        assertThat(codec.decode(codec.encode(big))).isEqualTo(big);
        assertThat(codec.decode(codec.encode(new HashMap<>(items)))).isEqualTo(items);
        assertThat(codec.decode(codec.encode(nested))).isEqualTo(nested);
    }

    /** Elements of one class are counted by that class's verdict once: a collection after them is still measured. */
    @Test
    void collectionAfterElementsOfAnotherClassIsMeasured() {
        List<String> list = new ArrayList<>(List.of("x", "y", "z"));
        Object[] elements = {"a", "b", null, list, "c", null, list, 7L, new HashSet<>(Set.of(list))};

        long expandedSize = new CollectionExpansion().beforeBuilding(ArrayList.class, elements);

        assertThat(expandedSize).as("1 + 4 plain elements + 2 nulls + twice the list (4) + the set (5)")
                .isEqualTo(1 + 4 + 2 + 2 * 4 + 5);
    }

    /** The nested sets of a bomb, each behind plain elements and nulls (the sets keep their order). */
    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void bombBehindPlainElementsIsRefused(String serializer) throws Exception {
        AttributeCodec codec = "kryo".equals(serializer) ? kryo : java;
        Set<Object> root = new LinkedHashSet<>();
        Set<Object> s1 = root;
        Set<Object> s2 = new LinkedHashSet<>();
        for (int i = 0; i < BOMB_DEPTH; i++) {
            Set<Object> t1 = new LinkedHashSet<>();
            Set<Object> t2 = new LinkedHashSet<>();
            t1.add(null);
            t1.add("foo");
            t1.add("bar");
            t2.add("baz");
            for (Set<Object> parent : List.of(s1, s2)) {
                parent.add(t1);
                parent.add(t2);
            }
            s1 = t1;
            s2 = t2;
        }
        List<Object> value = new ArrayList<>(List.of("a", "b", "c"));
        value.add(root);
        byte[] bytes = "kryo".equals(serializer) ? codec.encode(value) : javaSerialized(value);

        assertThatThrownBy(() -> codec.decode(bytes)).isInstanceOf(SerializationException.class)
                .hasMessageContaining("expands to ");
    }

    record Item(String name, List<String> tags) implements Serializable {
    }

    /** Wouter Coekaerts' nested sets, in the collection kind given. */
    static Object bomb(String kind, int depth) {
        Supplier<Set<Object>> sets = kind.equals("LinkedHashSet") ? LinkedHashSet::new : HashSet::new;
        if (kind.startsWith("HashMap")) {
            Map<Object, Object> root = new HashMap<>();
            Map<Object, Object> s1 = root;
            Map<Object, Object> s2 = new HashMap<>();
            boolean keys = kind.endsWith("keys");
            for (int i = 0; i < depth; i++) {
                Map<Object, Object> t1 = new HashMap<>();
                Map<Object, Object> t2 = new HashMap<>();
                t1.put("foo", "bar");
                put(s1, t1, keys);
                put(s1, t2, keys);
                put(s2, t1, keys);
                put(s2, t2, keys);
                s1 = t1;
                s2 = t2;
            }
            return root;
        }
        Set<Object> root = sets.get();
        Set<Object> s1 = root;
        Set<Object> s2 = sets.get();
        for (int i = 0; i < depth; i++) {
            Set<Object> t1 = sets.get();
            Set<Object> t2 = sets.get();
            t1.add("foo");
            s1.add(t1);
            s1.add(t2);
            s2.add(t1);
            s2.add(t2);
            s1 = t1;
            s2 = t2;
        }
        return root;
    }

    /** As a key (hashed), or as a value under a key that keeps the two apart (hashed with the map). */
    private static void put(Map<Object, Object> map, Map<Object, Object> child, boolean asKey) {
        if (asKey) {
            map.put(child, "v");
        } else {
            map.put(map.size(), child);
        }
    }

    static byte[] javaSerialized(Object value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
