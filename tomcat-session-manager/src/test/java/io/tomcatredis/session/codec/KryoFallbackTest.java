package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.DefaultSerializer;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.ConcurrentModificationException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.apache.catalina.realm.GenericPrincipal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the Kryo codec chooses Java serialization, per class and per value: the stored formats, the
 * values written before format 2, sharing across the two formats, classes Kryo fails on,
 * concurrent modification, and the one INFO line per class.
 */
class KryoFallbackTest {

    private final AttributeCodec codec = codec();
    private final List<String> infos = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel() == Level.INFO) {
                infos.add(record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLog() {
        Logger.getLogger(SerializationPolicy.class.getName()).addHandler(handler);
    }

    @AfterEach
    void releaseLog() {
        Logger.getLogger(SerializationPolicy.class.getName()).removeHandler(handler);
    }

    static AttributeCodec codec() {
        return AttributeCodec.create("kryo", KryoFallbackTest.class.getClassLoader(), ClassFilter.DENY_LIST_ONLY);
    }

    public static final class Holder implements Serializable {
        String name;
        List<String> items;
        Map<String, List<String>> index;
    }

    @Test
    void plainValuesAreWrittenInFormat2() throws Exception {
        Holder holder = new Holder();
        holder.name = "h";
        holder.items = new ArrayList<>(List.of("a"));
        byte[] bytes = codec.encode(holder);
        assertThat(bytes[0]).isEqualTo(KryoCodec.FORMAT_2);
        assertThat(((Holder) codec().decode(bytes)).items).containsExactly("a");
        assertThat(infos).noneMatch(line -> line.contains(Holder.class.getName()));
    }

    @Test
    void valuesWrittenBeforeFormat2AreStillRead() throws Exception {
        Holder holder = new Holder();
        holder.name = "old";
        holder.items = Collections.unmodifiableList(new ArrayList<>(List.of("x", "y")));
        holder.index = new LinkedHashMap<>(Map.of("k", List.of("v")));
        Object[] values = {holder, new GenericPrincipal("ann", List.of("user")), KryoCodecTest.Color.GREEN,
            new HashMap<>(Map.of("n", 1)), "text"};
        Kryo legacy = LegacyKryoFactory.create(getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        for (Object value : values) {
            Output output = new Output(256, -1);
            legacy.writeClassAndObject(output, value);
            Object decoded = codec.decode(output.toBytes());
            if (value instanceof Holder) {
                Holder copy = (Holder) decoded;
                assertThat(copy.name).isEqualTo("old");
                assertThat(copy.items).containsExactly("x", "y");
                assertThat(copy.index).isEqualTo(Map.of("k", List.of("v")));
            } else if (value instanceof GenericPrincipal principal) {
                assertThat(((GenericPrincipal) decoded).getName()).isEqualTo(principal.getName());
            } else {
                assertThat(decoded).isEqualTo(value);
            }
        }
    }

    @Test
    void valuesOfTheJavaSerializerAreReadToo() throws Exception {
        byte[] bytes = AttributeCodec.create("java", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY)
                .encode(new ArrayList<>(List.of("switched")));
        assertThat(codec.decode(bytes)).isEqualTo(List.of("switched"));
    }

    @Test
    void javaSerializerReadsWhatKryoWroteSoSwitchingBackKeepsSessions() throws Exception {
        AttributeCodec java = AttributeCodec.create("java", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        Holder holder = new Holder();
        holder.name = "switched";
        assertThat(((Holder) java.decode(codec.encode(holder))).name).isEqualTo("switched");
        Output output = new Output(256, -1);
        LegacyKryoFactory.create(getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY).writeClassAndObject(output, holder);
        assertThat(((Holder) java.decode(output.toBytes())).name).isEqualTo("switched");
    }

    /** One list reachable from a Kryo-written field and from inside a Java-written wrapper. */
    @Test
    void objectSharedBetweenTheTwoFormatsMakesTheWholeValueJavaSerialized() throws Exception {
        Holder holder = new Holder();
        holder.items = new ArrayList<>(List.of("shared"));
        holder.index = new HashMap<>(Map.of("view", Collections.synchronizedList(holder.items)));
        byte[] bytes = codec.encode(holder);
        assertThat(bytes[0]).isEqualTo((byte) 0xAC);

        Holder copy = (Holder) codec().decode(bytes);
        copy.items.add("added");
        assertThat(copy.index.get("view")).containsExactly("shared", "added");
    }

    /** The unmodifiable wrappers are written by Kryo around the very collection they wrap. */
    @Test
    void unmodifiableViewStaysAViewOfTheCollectionItWraps() throws Exception {
        Holder holder = new Holder();
        holder.items = new ArrayList<>(List.of("shared"));
        holder.index = new HashMap<>(Map.of("view", Collections.unmodifiableList(holder.items)));
        byte[] bytes = codec.encode(holder);
        assertThat(bytes[0]).isEqualTo(KryoCodec.FORMAT_2);

        Holder copy = (Holder) codec().decode(bytes);
        copy.items.add("added");
        assertThat(copy.index.get("view")).containsExactly("shared", "added");
        assertThat(infos).noneMatch(line -> line.contains("Unmodifiable"));
    }

    /** A cycle back to a wrapper: the reader could only build the wrapper after its content. */
    @Test
    void cycleBackToAnUnmodifiableWrapperIsKept() throws Exception {
        List<Object> list = new ArrayList<>();
        List<Object> view = Collections.unmodifiableList(list);
        list.add(view);
        Object copy = codec().decode(codec.encode(view));
        Object viaJava = io.tomcatredis.session.fidelity.FidelityCorpus.javaRoundTrip(view, getClass().getClassLoader());
        assertThat(io.tomcatredis.session.fidelity.ObservableState.differences(viaJava, copy)).isEmpty();
        List<?> inner = (List<?>) ((List<?>) copy).get(0);
        assertThat(inner.get(0)).isSameAs(inner);
    }

    @Test
    void objectSharedBetweenTwoJavaWrittenPartsMakesTheWholeValueJavaSerialized() throws Exception {
        List<String> shared = new ArrayList<>(List.of("s"));
        Holder holder = new Holder();
        holder.index = new LinkedHashMap<>();
        holder.index.put("a", Collections.synchronizedList(shared));
        holder.index.put("b", Collections.synchronizedList(shared));
        // the LinkedHashMap is itself Java-written, so both wrappers are in one Java stream: no conflict
        assertThat(codec.encode(holder)[0]).isEqualTo(KryoCodec.FORMAT_2);

        Map<String, Object> two = new HashMap<>();
        two.put("a", Collections.synchronizedCollection(shared));
        two.put("b", Collections.synchronizedList(shared));
        byte[] bytes = codec.encode(two);
        assertThat(bytes[0]).isEqualTo((byte) 0xAC);
        @SuppressWarnings("unchecked")
        Map<String, java.util.Collection<String>> copy = (Map<String, java.util.Collection<String>>) codec()
                .decode(bytes);
        copy.get("b").add("t");
        assertThat(copy.get("a")).containsExactly("s", "t");
    }

    /** Immutable with value equality, like Spring Security's SimpleGrantedAuthority. */
    public static final class Role implements Serializable {
        private final String name;

        Role(String name) {
            this.name = name;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Role role && role.name.equals(name);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }
    }

    @Test
    void immutableValueSharedBetweenTheFormatsKeepsFormat2() throws Exception {
        Role admin = new Role("admin");
        Holder holder = new Holder();
        holder.index = new HashMap<>();
        Map<String, Object> value = new HashMap<>();
        value.put("list", Collections.synchronizedList(new ArrayList<>(List.of(admin))));
        value.put("set", Collections.synchronizedSet(new java.util.HashSet<>(List.of(admin))));
        value.put("direct", admin);
        byte[] bytes = codec.encode(value);
        assertThat(bytes[0]).isEqualTo(KryoCodec.FORMAT_2);
        Map<?, ?> copy = (Map<?, ?>) codec().decode(bytes);
        assertThat(((Role) copy.get("direct")).name).isEqualTo("admin");
        assertThat(((Role) ((List<?>) copy.get("list")).get(0)).name).isEqualTo("admin");
    }

    /** Final classes referring to each other through final fields: not values (and no endless check). */
    public static final class Husband implements Serializable {
        private final Wife wife;

        Husband(Wife wife) {
            this.wife = wife;
        }
    }

    public static final class Wife implements Serializable {
        private final Husband husband;

        Wife(Husband husband) {
            this.husband = husband;
        }
    }

    @Test
    void mutuallyReferringFinalClassesAreCheckedOnce() throws Exception {
        Husband husband = new Husband(new Wife(null));
        Map<String, Object> value = new HashMap<>();
        value.put("sync", Collections.synchronizedList(new ArrayList<>(List.of(husband))));
        value.put("direct", husband);
        byte[] bytes = codec.encode(value);
        Map<?, ?> copy = (Map<?, ?>) codec().decode(bytes);
        assertThat(((List<?>) copy.get("sync")).get(0)).isSameAs(copy.get("direct"));
    }

    /** A class whose Kryo serializer cannot read what it wrote. */
    @DefaultSerializer(BrokenOnRead.class)
    public static final class KryoCannotRead implements Serializable {
        String value = "v";
    }

    public static final class BrokenOnRead extends Serializer<KryoCannotRead> {
        @Override
        public void write(Kryo kryo, Output output, KryoCannotRead object) {
            output.writeString(object.value);
        }

        @Override
        public KryoCannotRead read(Kryo kryo, Input input, Class<? extends KryoCannotRead> type) {
            throw new IllegalStateException("cannot read");
        }
    }

    @Test
    void classKryoFailsOnGoesToJavaSerializationOnceAndForAll() throws Exception {
        Holder holder = new Holder();
        holder.name = "h";
        Map<String, Object> value = new HashMap<>(Map.of("broken", new KryoCannotRead(), "holder", holder));

        Object copy = codec().decode(codec.encode(value));
        assertThat(((KryoCannotRead) ((Map<?, ?>) copy).get("broken")).value).isEqualTo("v");
        assertThat(codec.encode(new KryoCannotRead())[0]).isEqualTo(KryoCodec.FORMAT_2);
        assertThat(((KryoCannotRead) codec().decode(codec.encode(new KryoCannotRead()))).value).isEqualTo("v");

        assertThat(infos).filteredOn(line -> line.contains(KryoCannotRead.class.getName())).hasSize(1)
                .allMatch(line -> line.contains("Kryo failed on it"));
    }

    public static final class Lazy implements Serializable {
        transient int failuresLeft;
        List<String> data = new ArrayList<>(List.of("d"));

        private void writeObject(ObjectOutputStream out) throws IOException {
            if (failuresLeft-- > 0) {
                throw new ConcurrentModificationException("modified by another request");
            }
            out.defaultWriteObject();
        }
    }

    @Test
    void concurrentModificationWhileEncodingIsRetried() throws Exception {
        Lazy lazy = new Lazy();
        lazy.failuresLeft = KryoCodec.MAX_ATTEMPTS - 1;
        Map<String, Object> value = new HashMap<>(Map.of("lazy", lazy));

        assertThat(((Lazy) ((Map<?, ?>) codec().decode(codec.encode(value))).get("lazy")).data).containsExactly("d");
    }

    @Test
    void concurrentModificationThatPersistsIsASerializationException() {
        Lazy lazy = new Lazy();
        lazy.failuresLeft = Integer.MAX_VALUE;
        assertThatThrownBy(() -> codec.encode(new ArrayList<>(List.of(lazy))))
                .isInstanceOf(SerializationException.class).hasMessageContaining("modified by another thread")
                .hasCauseInstanceOf(ConcurrentModificationException.class);
        assertThatThrownBy(() -> AttributeCodec.create("java", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY)
                .encode(lazy)).isInstanceOf(SerializationException.class)
                .hasCauseInstanceOf(ConcurrentModificationException.class);
    }

    /** Modifies the ArrayList that Kryo is iterating, from inside the iteration. */
    public static final class Mutator implements Serializable {
        transient List<Object> owner;
        transient int times;

        private void writeObject(ObjectOutputStream out) throws IOException {
            if (times-- > 0) {
                owner.add("grown");
            }
            out.defaultWriteObject();
        }
    }

    @Test
    void listModifiedWhileKryoIteratesItIsWrittenAgain() throws Exception {
        List<Object> list = new ArrayList<>();
        Mutator mutator = new Mutator();
        mutator.owner = list;
        mutator.times = 1;
        list.add(mutator);
        list.add("last");

        @SuppressWarnings("unchecked")
        List<Object> copy = (List<Object>) codec().decode(codec.encode(list));
        assertThat(copy).hasSize(3).endsWith("last", "grown");
    }

    /** Another thread changes the value all along: each encode succeeds or says why, nothing else. */
    @Test
    void valueChangedByAnotherThreadIsEncodedOrRefusedWithASerializationException() throws Exception {
        Holder holder = new Holder();
        holder.items = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            for (int i = 0; running.get(); i++) {
                holder.items.add("i" + i);
                if (holder.items.size() > 100) {
                    holder.items.subList(0, 50).clear();
                }
            }
        });
        writer.start();
        try {
            for (int i = 0; i < 300; i++) {
                try {
                    // unsynchronized writes may show a slot before its element, with Java serialization too
                    Holder copy = (Holder) codec().decode(codec.encode(holder));
                    assertThat(copy.items).allMatch(item -> item == null || item.startsWith("i"));
                } catch (SerializationException e) {
                    assertThat(e).hasMessageContaining("modified by another thread")
                            .hasCauseInstanceOf(ConcurrentModificationException.class);
                }
            }
        } finally {
            running.set(false);
            writer.join();
        }
        Holder settled = (Holder) codec().decode(codec.encode(holder));
        assertThat(settled.items).isEqualTo(holder.items);
    }

    public static final class Failing implements Serializable {
        private void writeObject(ObjectOutputStream out) {
            throw new IllegalStateException("no unit of work");
        }
    }

    public static final class Deep implements Serializable {
        Deep next;
    }

    @Test
    void everyEncodeFailureIsASerializationException() {
        assertThatThrownBy(() -> codec.encode(new ArrayList<>(List.of(new Failing()))))
                .isInstanceOf(SerializationException.class).hasMessageContaining("no unit of work");
        Deep deep = new Deep();
        for (int i = 0; i < 200_000; i++) {
            Deep next = new Deep();
            next.next = deep;
            deep = next;
        }
        Deep chain = deep;
        assertThatThrownBy(() -> codec.encode(chain)).isInstanceOf(SerializationException.class);
        assertThat(infos).as("a value too deep is not the class's fault").noneMatch(line -> line.contains("Deep"));
        assertThatThrownBy(() -> codec.encode(null)).isInstanceOf(SerializationException.class);
        assertThatThrownBy(() -> codec.decode(null)).isInstanceOf(SerializationException.class);
        assertThatThrownBy(() -> codec.decode(new byte[0])).isInstanceOf(SerializationException.class);
        assertThatThrownBy(() -> codec.decode(new byte[] {KryoCodec.FORMAT_2, 1, (byte) 0x80}))
                .isInstanceOf(SerializationException.class);
        assertThatThrownBy(() -> codec.encode(new ArrayList<>(List.of(new Object[] {Thread.currentThread()}))))
                .isInstanceOf(SerializationException.class).hasMessageContaining("java.lang.Thread");
    }

    /** A map subclass of its own: no other test logs its fallback. */
    public static final class LoggedOnce extends LinkedHashMap<String, Integer> {
    }

    @Test
    void eachClassThatFallsBackIsLoggedOnceHoweverManyCodecs() throws Exception {
        for (int i = 0; i < 3; i++) {
            LoggedOnce map = new LoggedOnce();
            map.put("i", i);
            codec.encode(new ArrayList<>(List.of(map)));
            codec().encode(map);
        }
        assertThat(infos).hasSize(1).allMatch(line -> line.contains(LoggedOnce.class.getName())
                && line.contains("Java serialization") && line.contains("a Collection or Map of its own"));
    }

    public static class Shadowed implements Serializable {
        String name = "parent";
    }

    public static final class Shadowing extends Shadowed {
        String name = "child";
    }

    @Test
    void shadowedFieldsKeepTheirOwnValues() throws Exception {
        Shadowing copy = (Shadowing) codec().decode(codec.encode(new Shadowing()));
        assertThat(copy.name).isEqualTo("child");
        assertThat(((Shadowed) copy).name).isEqualTo("parent");
    }
}
