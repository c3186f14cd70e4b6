package io.tomcatredis.session.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.ClassFilter;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the fidelity rule "any value whose observable state survives Java serialization
 * survives the session store": each case writes with one Kryo codec and reads with another (two
 * nodes), and compares with a Java serialization round trip of the same value.
 */
class FidelityAttackTest {

    private static final ClassLoader LOADER = FidelityAttackTest.class.getClassLoader();

    private static Object viaStore(Object value) throws Exception {
        AttributeCodec writer = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        AttributeCodec reader = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        return reader.decode(writer.encode(value));
    }

    private static Object viaJava(Object value) {
        return FidelityCorpus.javaRoundTrip(value, LOADER);
    }

    // ---------------------------------------------------------------- breaking cases

    /** A Serializable class whose own constructor Java serialization never runs. */
    static final class Visitor implements Serializable {
        private static final long serialVersionUID = 1L;
        String name = "anonymous";
        transient int pageViews = 5;
        transient List<String> recent = new ArrayList<>(List.of("constructor ran"));

        Visitor() {
        }
    }

    @Test
    void transientFieldsAreResetAsJavaSerializationDoesNotRunTheConstructor() throws Exception {
        Visitor visitor = new Visitor();
        visitor.name = "alice";
        visitor.pageViews = 42;
        Visitor java = (Visitor) viaJava(visitor);
        Visitor store = (Visitor) viaStore(visitor);
        assertThat(java.pageViews).isZero();
        assertThat(java.recent).isNull();
        assertThat(store.name).isEqualTo("alice");
        assertThat(store.pageViews).as("transient int after the session store (Java gives 0)").isEqualTo(java.pageViews);
        assertThat(store.recent).as("transient list after the session store (Java gives null)").isEqualTo(java.recent);
    }

    /** A mutable element type: arrays of it are mutable whatever the element class looks like. */
    static final class Slot implements Serializable {
        private static final long serialVersionUID = 1L;
        final String label;

        Slot(String label) {
            this.label = label;
        }
    }

    /** Written by Kryo; the LinkedHashMap it holds is written by Java serialization. */
    static final class Board implements Serializable {
        private static final long serialVersionUID = 1L;
        Slot[] slots;
        LinkedHashMap<String, Object> index = new LinkedHashMap<>();
    }

    @Test
    void anArraySharedBetweenAKryoPartAndAJavaPartStaysShared() throws Exception {
        Board board = new Board();
        board.slots = new Slot[] {new Slot("a"), new Slot("b")};
        board.index.put("slots", board.slots);
        Board java = (Board) viaJava(board);
        Board store = (Board) viaStore(board);
        assertThat(java.index.get("slots")).isSameAs(java.slots);
        assertThat(store.index.get("slots"))
                .as("Slot[] reachable from a Kryo-written field and a Java-written map: one array after the store")
                .isSameAs(store.slots);
    }

    /** A sentinel: final, final fields, no equals; its identity is what the application compares. */
    static final class Marker implements Serializable {
        private static final long serialVersionUID = 1L;
        final String name;

        Marker(String name) {
            this.name = name;
        }
    }

    static final class Workflow implements Serializable {
        private static final long serialVersionUID = 1L;
        Marker current;
        LinkedHashMap<String, Object> states = new LinkedHashMap<>();
    }

    @Test
    void aSentinelSharedBetweenAKryoPartAndAJavaPartKeepsItsIdentity() throws Exception {
        Workflow workflow = new Workflow();
        Marker done = new Marker("done");
        workflow.states.put("done", done);
        workflow.current = done;
        Workflow java = (Workflow) viaJava(workflow);
        Workflow store = (Workflow) viaStore(workflow);
        assertThat(java.current).isSameAs(java.states.get("done"));
        assertThat(store.current).as("a final class without equals, reachable from a Kryo field and a Java-written map")
                .isEqualTo(store.states.get("done"));
    }

    static final class Ranking implements Serializable {
        private static final long serialVersionUID = 1L;
        String[] names;
        List<String> view;
    }

    @Test
    void arraysAsListStillWritesThroughToItsArray() throws Exception {
        Ranking ranking = new Ranking();
        ranking.names = new String[] {"x", "y"};
        ranking.view = Arrays.asList(ranking.names);
        Ranking java = (Ranking) viaJava(ranking);
        Ranking store = (Ranking) viaStore(ranking);
        java.view.set(0, "changed");
        store.view.set(0, "changed");
        assertThat(java.names[0]).isEqualTo("changed");
        assertThat(store.names[0]).as("Arrays.asList view writes through to its array after the store")
                .isEqualTo("changed");
    }

    // ---------------------------------------------------------------- passing cases that pin behaviour

    @Test
    void accessOrderLinkedHashMapKeepsOrderAndAccessMode() throws Exception {
        LinkedHashMap<String, Integer> lru = new LinkedHashMap<>(16, 0.75f, true);
        lru.put("a", 1);
        lru.put("b", 2);
        lru.put("c", 3);
        lru.get("a");
        @SuppressWarnings("unchecked")
        LinkedHashMap<String, Integer> store = (LinkedHashMap<String, Integer>) viaStore(lru);
        assertThat(store.keySet()).containsExactly("b", "c", "a");
        store.get("b");
        assertThat(store.keySet()).as("access order kept").containsExactly("c", "a", "b");
    }

    @Test
    void sortedCollectionsAndTheirWrappersKeepTheirComparators() throws Exception {
        TreeMap<String, Integer> insensitive = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        insensitive.put("b", 1);
        insensitive.put("A", 2);
        TreeSet<String> reversed = new TreeSet<>(Comparator.reverseOrder());
        reversed.addAll(List.of("a", "c", "b"));
        TreeSet<String> byLength = new TreeSet<>((Comparator<String> & Serializable) (x, y) -> x.length() - y.length());
        byLength.addAll(List.of("ccc", "a", "bb"));
        List<Object> values = List.of(
                Collections.checkedSortedMap(insensitive, String.class, Integer.class),
                Collections.synchronizedSortedSet(reversed),
                Collections.unmodifiableSortedSet(byLength),
                Collections.unmodifiableNavigableMap(insensitive),
                Collections.synchronizedNavigableSet(byLength));
        for (Object value : values) {
            Object store = viaStore(value);
            assertThat(store.getClass()).isSameAs(value.getClass());
            assertThat(ObservableState.differences(viaJava(value), store)).as(value.getClass().getName()).isEmpty();
        }
        @SuppressWarnings("unchecked")
        SortedMap<String, Integer> checked = (SortedMap<String, Integer>) viaStore(values.get(0));
        assertThat(checked.get("B")).isEqualTo(1);
        @SuppressWarnings("unchecked")
        SortedSet<String> lengths = (SortedSet<String>) viaStore(values.get(2));
        assertThat(lengths).containsExactly("a", "bb", "ccc");
    }

    /** A singleton that keeps its identity through readResolve. */
    static final class Anonymous implements Serializable {
        private static final long serialVersionUID = 1L;
        static final Anonymous INSTANCE = new Anonymous();

        private Object readResolve() {
            return INSTANCE;
        }
    }

    static final class Holder implements Serializable {
        private static final long serialVersionUID = 1L;
        Object who = Anonymous.INSTANCE;
        List<Object> list = new ArrayList<>();
    }

    @Test
    void readResolveSingletonInsideAKryoWrittenClassKeepsItsIdentity() throws Exception {
        Holder holder = new Holder();
        holder.list.add(Anonymous.INSTANCE);
        Holder store = (Holder) viaStore(holder);
        assertThat(store.who).isSameAs(Anonymous.INSTANCE);
        assertThat(store.list.get(0)).isSameAs(Anonymous.INSTANCE);
    }

    static final class Node implements Serializable {
        private static final long serialVersionUID = 1L;
        List<Node> children;
        Node parent;
    }

    @Test
    void aCycleRunningBackThroughAnUnmodifiableWrapperSurvives() throws Exception {
        Node root = new Node();
        Node child = new Node();
        child.parent = root;
        ArrayList<Node> kids = new ArrayList<>(List.of(child));
        root.children = Collections.unmodifiableList(kids);
        Node store = (Node) viaStore(root);
        assertThat(store.children.get(0).parent).isSameAs(store);
        assertThat(ObservableState.differences(viaJava(root), store)).isEmpty();
    }
}
