package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** How the collection an unmodifiable wrapper wraps is found: the very object, every time. */
class UnmodifiableWrapperSerializerTest {

    @Test
    void eachWrapperGivesTheVeryCollectionItWraps() throws Exception {
        UnmodifiableWrapperSerializer.InnerCapture capture = new UnmodifiableWrapperSerializer.InnerCapture();
        ArrayList<Object> arrayList = new ArrayList<>(List.of(1, 2));
        LinkedList<Object> linkedList = new LinkedList<>(List.of(3));
        TreeSet<String> treeSet = new TreeSet<>(Comparator.reverseOrder());
        treeSet.add("a");
        TreeMap<Object, Object> treeMap = new TreeMap<>(Map.of("k", "v"));
        LinkedHashMap<Object, Object> linkedMap = new LinkedHashMap<>(Map.of("k", "v"));

        for (int round = 0; round < 2; round++) { // one capture serves wrapper after wrapper
            assertThat(capture.wrappedBy(Collections.unmodifiableList(arrayList))).isSameAs(arrayList);
            assertThat(capture.wrappedBy(Collections.unmodifiableList(linkedList))).isSameAs(linkedList);
            assertThat(capture.wrappedBy(Collections.unmodifiableCollection(arrayList))).isSameAs(arrayList);
            assertThat(capture.wrappedBy(Collections.unmodifiableSet(treeSet))).isSameAs(treeSet);
            assertThat(capture.wrappedBy(Collections.unmodifiableSortedSet(treeSet))).isSameAs(treeSet);
            assertThat(capture.wrappedBy(Collections.unmodifiableNavigableSet(treeSet))).isSameAs(treeSet);
            assertThat(capture.wrappedBy(Collections.unmodifiableMap(linkedMap))).isSameAs(linkedMap);
            assertThat(capture.wrappedBy(Collections.unmodifiableSortedMap(treeMap))).isSameAs(treeMap);
            assertThat(capture.wrappedBy(Collections.unmodifiableNavigableMap(treeMap))).isSameAs(treeMap);
        }
    }

    /** List.of writes a replacement, which is what Java serialization would write, so the codec falls back to it. */
    @Test
    void wrappedCollectionWithWriteReplaceGivesItsReplacement() throws Exception {
        UnmodifiableWrapperSerializer.InnerCapture capture = new UnmodifiableWrapperSerializer.InnerCapture();
        List<Integer> immutable = List.of(1, 2);

        Object inner = capture.wrappedBy(Collections.unmodifiableList(immutable));

        assertThat(inner).isNotNull().isNotSameAs(immutable);
        assertThat(inner.getClass().getName()).isEqualTo("java.util.CollSer");
        AttributeCodec codec = AttributeCodec.create("kryo", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        Object value = new ArrayList<>(List.of(Collections.unmodifiableList(immutable)));
        assertThat(codec.decode(codec.encode(value))).isEqualTo(value);
    }
}
