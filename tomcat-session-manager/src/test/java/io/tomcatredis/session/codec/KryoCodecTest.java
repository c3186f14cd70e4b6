package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.catalina.realm.GenericPrincipal;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class KryoCodecTest {

    enum Color { RED, GREEN, BLUE }

    record Profile(String name, String email, List<String> tags) {
    }

    static final class Node implements Serializable {
        String label;
        Node next;
    }

    /** Custom Java serialization that Kryo must honour: the secret is never written as is. */
    static final class Custom implements Serializable {
        transient String secret;
        int readCount;

        private void writeObject(ObjectOutputStream out) throws IOException {
            out.defaultWriteObject();
            out.writeUTF(new StringBuilder(secret).reverse().toString());
        }

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            secret = new StringBuilder(in.readUTF()).reverse().toString();
            readCount++;
        }
    }

    static Stream<Arguments> values() {
        TreeMap<String, Integer> tree = new TreeMap<>(Collections.reverseOrder());
        tree.put("a", 1);
        tree.put("b", 2);
        EnumMap<Color, String> enumMap = new EnumMap<>(Color.class);
        enumMap.put(Color.GREEN, "go");
        ConcurrentHashMap<String, List<Integer>> chm = new ConcurrentHashMap<>();
        chm.put("k", new ArrayList<>(List.of(1, 2)));
        return Stream.of(
                Arguments.of("record", new Profile("Ann", "ann@example.com", List.of("vip"))),
                Arguments.of("enum", Color.BLUE),
                Arguments.of("Instant", Instant.parse("2026-11-28T10:15:30.123Z")),
                Arguments.of("LocalDate", LocalDate.of(2026, 11, 28)),
                Arguments.of("LocalDateTime", LocalDateTime.of(2026, 11, 28, 10, 15)),
                Arguments.of("ZonedDateTime", ZonedDateTime.parse("2026-11-28T10:15:30+01:00[Europe/Paris]")),
                Arguments.of("Duration", Duration.ofMinutes(90)),
                Arguments.of("UUID", UUID.fromString("123e4567-e89b-12d3-a456-426614174000")),
                Arguments.of("BigDecimal", new BigDecimal("12345.6789")),
                Arguments.of("List.of", List.of("a", "b", "c")),
                Arguments.of("List.of one", List.of("a")),
                Arguments.of("Map.of", Map.of("a", 1, "b", 2, "c", 3)),
                Arguments.of("Set.of", Set.of("x", "y", "z")),
                Arguments.of("unmodifiableList", Collections.unmodifiableList(new ArrayList<>(List.of(1, 2)))),
                Arguments.of("unmodifiableLinkedList", Collections.unmodifiableList(new LinkedList<>(List.of(1, 2)))),
                Arguments.of("unmodifiableSet", Collections.unmodifiableSet(new java.util.HashSet<>(Set.of(1)))),
                Arguments.of("unmodifiableMap", Collections.unmodifiableMap(new HashMap<>(Map.of("k", "v")))),
                Arguments.of("unmodifiableSortedSet", Collections.unmodifiableSortedSet(new TreeSet<>(Set.of(3, 1)))),
                Arguments.of("unmodifiableNavigableMap", Collections.unmodifiableNavigableMap(tree)),
                Arguments.of("unmodifiableCollection", Collections.unmodifiableCollection(new ArrayList<>(List.of(1)))),
                Arguments.of("synchronizedList", Collections.synchronizedList(new ArrayList<>(List.of(1, 2)))),
                Arguments.of("synchronizedMap", Collections.synchronizedMap(new HashMap<>(Map.of("k", "v")))),
                Arguments.of("synchronizedSet", Collections.synchronizedSet(new java.util.HashSet<>(Set.of("s")))),
                Arguments.of("synchronizedSortedMap", Collections.synchronizedSortedMap(new TreeMap<>(tree))),
                Arguments.of("singletonList", Collections.singletonList("one")),
                Arguments.of("singleton", Collections.singleton("one")),
                Arguments.of("singletonMap", Collections.singletonMap("k", "v")),
                Arguments.of("emptyList", Collections.emptyList()),
                Arguments.of("emptyMap", Collections.emptyMap()),
                Arguments.of("emptySet", Collections.emptySet()),
                Arguments.of("Arrays.asList", Arrays.asList("a", "b")),
                Arguments.of("EnumMap", enumMap),
                Arguments.of("empty EnumMap", new EnumMap<>(Color.class)),
                Arguments.of("EnumSet", EnumSet.of(Color.RED, Color.BLUE)),
                Arguments.of("ConcurrentHashMap", chm),
                Arguments.of("TreeMap with comparator", tree),
                Arguments.of("GenericPrincipal", new GenericPrincipal("ann", List.of("admin", "user"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("values")
    void roundTripsWithKryo(String description, Object value) throws Exception {
        assertRoundTrip(kryo(), value);
    }

    /** The values of {@link #values()} that Java serialization accepts: all but the record. */
    static Stream<Arguments> serializableValues() {
        return values().filter(arguments -> arguments.get()[1] instanceof Serializable);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("serializableValues")
    void roundTripsWithJavaSerialization(String description, Object value) throws Exception {
        assertRoundTrip(AttributeCodec.create("java", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY), value);
    }

    @org.junit.jupiter.api.Test
    void javaSerializationRefusesTheRecordThatIsNotSerializable() {
        AttributeCodec java = AttributeCodec.create("java", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        assertThat(values().filter(arguments -> !(arguments.get()[1] instanceof Serializable))).hasSize(1);
        assertThatThrownBy(() -> java.encode(new Profile("Ann", "ann@example.com", List.of())))
                .isInstanceOf(SerializationException.class).hasMessageContaining("NotSerializableException");
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void atomicLongKeepsItsValueAndStaysMutable(String serializer) throws Exception {
        AttributeCodec codec = AttributeCodec.create(serializer, getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        AtomicLong decoded = (AtomicLong) codec.decode(codec.encode(new AtomicLong(41)));
        assertThat(decoded.incrementAndGet()).isEqualTo(42);
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void cyclicGraphKeepsItsCycle(String serializer) throws Exception {
        AttributeCodec codec = AttributeCodec.create(serializer, getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        Node a = new Node();
        Node b = new Node();
        a.label = "a";
        b.label = "b";
        a.next = b;
        b.next = a;
        Node decoded = (Node) codec.decode(codec.encode(a));
        assertThat(decoded.next.label).isEqualTo("b");
        assertThat(decoded.next.next).isSameAs(decoded);
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void customWriteObjectAndReadObjectAreHonoured(String serializer) throws Exception {
        AttributeCodec codec = AttributeCodec.create(serializer, getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        Custom custom = new Custom();
        custom.secret = "abc";
        byte[] bytes = codec.encode(custom);
        assertThat(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("abc");
        Custom decoded = (Custom) codec.decode(bytes);
        assertThat(decoded.secret).isEqualTo("abc");
        assertThat(decoded.readCount).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void serialFilterRejectsClassBeforeInstantiatingIt(String serializer) throws Exception {
        byte[] bytes = AttributeCodec.create(serializer, getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY)
                .encode(new ArrayList<>(List.of(new Node())));
        AttributeCodec filtered = AttributeCodec.create(serializer, getClass().getClassLoader(),
                ClassFilter.parse("java.**;!io.tomcatredis.session.codec.KryoCodecTest$Node"));
        assertThatThrownBy(() -> filtered.decode(bytes)).isInstanceOf(SerializationException.class)
                .hasMessageContaining("KryoCodecTest$Node");
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void corruptBytesGiveASerializationException(String serializer) {
        AttributeCodec codec = AttributeCodec.create(serializer, getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        assertThatThrownBy(() -> codec.decode(new byte[] {1, 2, 3, 4, 5, 6, 7})).isInstanceOf(SerializationException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void valueThatIsNeitherSerializableNorARecordIsRefused(String serializer) {
        AttributeCodec codec = AttributeCodec.create(serializer, getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        assertThatThrownBy(() -> codec.encode(new StringBuilder("x").chars()))
                .isInstanceOf(SerializationException.class);
    }

    /** Each pooled Kryo reuses its buffers: what it wrote or read before never shows in the next value. */
    @ParameterizedTest
    @ValueSource(ints = {10, 5_000})
    void bytesDoNotDependOnTheValuesBefore(int strings) throws Exception {
        List<String> before = new ArrayList<>();
        for (int i = 0; i < strings; i++) {
            before.add("value-" + i);
        }
        Map<String, Object> value = new TreeMap<>(Map.of("ids", new ArrayList<>(List.of(1L, 2L)), "name", "ann"));
        byte[] fresh = kryo().encode(value);
        AttributeCodec codec = kryo();

        byte[] beforeBytes = codec.encode(before);
        byte[] bytes = codec.encode(value);

        assertThat(bytes).isEqualTo(fresh);
        assertThat(codec.decode(beforeBytes)).isEqualTo(before);
        assertThat(codec.decode(bytes)).isEqualTo(value);
        assertThat(codec.encode(value)).isEqualTo(fresh);
    }

    private static AttributeCodec kryo() {
        return AttributeCodec.create("kryo", KryoCodecTest.class.getClassLoader(), ClassFilter.DENY_LIST_ONLY);
    }

    private static void assertRoundTrip(AttributeCodec codec, Object value) throws SerializationException {
        Object decoded = codec.decode(codec.encode(value));
        if (value instanceof GenericPrincipal principal) {
            GenericPrincipal copy = (GenericPrincipal) decoded;
            assertThat(copy.getName()).isEqualTo(principal.getName());
            assertThat(copy.getRoles()).containsExactly(principal.getRoles());
            return;
        }
        assertThat(decoded.getClass()).isEqualTo(value.getClass());
        if (!decoded.getClass().getName().equals("java.util.Collections$UnmodifiableCollection")) {
            assertThat(decoded).isEqualTo(value); // that wrapper has identity equality
        }
        if (value instanceof NavigableMap<?, ?> map) {
            assertThat(((NavigableMap<?, ?>) decoded).comparator()).isEqualTo(map.comparator());
        }
        if (value instanceof SortedSet<?> set) {
            assertThat(((SortedSet<?>) decoded).comparator()).isEqualTo(set.comparator());
        }
        if (value instanceof Collection<?> || value instanceof Map<?, ?>) {
            assertThat(decoded).hasToString(value.toString());
        }
    }
}
