package io.tomcatredis.session.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.ClassFilter;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.hibernate.collection.spi.PersistentSortedSet;
import org.junit.jupiter.api.Test;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.web.authentication.preauth.PreAuthenticatedAuthenticationToken;
import org.springframework.security.web.csrf.DefaultCsrfToken;

/** More attacks: hashing during a cyclic read, framework objects not in the corpus, self-modifying values. */
class FidelityAttack2Test {

    private static final ClassLoader LOADER = FidelityAttack2Test.class.getClassLoader();

    private static Object viaStore(Object value) throws Exception {
        AttributeCodec writer = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        AttributeCodec reader = AttributeCodec.create("kryo", LOADER, ClassFilter.DENY_LIST_ONLY);
        return reader.decode(writer.encode(value));
    }

    private static Object viaJava(Object value) {
        return FidelityCorpus.javaRoundTrip(value, LOADER);
    }

    /** An order whose lines hash on the order's number, as JPA entities often do. */
    static final class Order implements Serializable {
        private static final long serialVersionUID = 1L;
        Set<Line> lines = new HashSet<>();
        int orderNo;
    }

    static final class Line implements Serializable {
        private static final long serialVersionUID = 1L;
        Order order;
        String sku;

        Line(Order order, String sku) {
            this.order = order;
            this.sku = sku;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Line other && other.order.orderNo == order.orderNo && other.sku.equals(sku);
        }

        @Override
        public int hashCode() {
            return Objects.hash(order.orderNo, sku);
        }
    }

    @Test
    void aHashSetWhoseElementsHashOnTheirOwnerBehavesAsAfterJavaSerialization() throws Exception {
        Order order = new Order();
        order.orderNo = 7;
        order.lines.add(new Line(order, "book"));
        order.lines.add(new Line(order, "pen"));
        Order java = (Order) viaJava(order);
        Order store = (Order) viaStore(order);
        // Java 17 sets all fields of Order after reading them (ObjectInputStream.FieldValues), so
        // its copy hashes the lines with orderNo 0 as well: the store must not do better or worse.
        assertThat(store.lines.contains(new Line(store, "book")))
                .as("HashSet.contains after the session store, as after Java serialization")
                .isEqualTo(java.lines.contains(new Line(java, "book")));
    }

    @Test
    void frameworkObjectsNotInTheCorpusKeepWhatJavaKeeps() throws Exception {
        PreAuthenticatedAuthenticationToken token = new PreAuthenticatedAuthenticationToken("ann", "cred",
                List.of(new SimpleGrantedAuthority("ROLE_USER")));
        token.setDetails("10.0.0.1");
        PersistentSortedSet<String> sorted = new PersistentSortedSet<>();
        sorted.setSnapshot(44L, "corpus.Owner.sortedTags", null);
        List<Object> values = List.of(new DefaultCsrfToken("X-CSRF-TOKEN", "_csrf", "abc123"), token, sorted);
        for (Object value : values) {
            Object store = viaStore(value);
            assertThat(ObservableState.differences(viaJava(value), store)).as(value.getClass().getName()).isEmpty();
        }
    }

    static final class Directory implements Serializable {
        private static final long serialVersionUID = 1L;
        TreeMap<String, Integer> all = new TreeMap<>();
        java.util.SortedMap<String, Integer> firstHalf;
    }

    @Test
    void aSubMapViewStaysAViewOfItsTreeMap() throws Exception {
        Directory directory = new Directory();
        directory.all.put("a", 1);
        directory.all.put("z", 26);
        directory.firstHalf = directory.all.headMap("m");
        Directory store = (Directory) viaStore(directory);
        store.all.put("b", 2);
        assertThat(store.firstHalf).as("headMap view after the store").containsOnlyKeys("a", "b");
    }

    /** Its own serialization grows the list that holds it, the most deterministic concurrent modification. */
    static final class Grower implements Serializable {
        private static final long serialVersionUID = 1L;
        transient List<Object> owner;

        private void writeObject(ObjectOutputStream out) throws IOException {
            if (owner != null && owner.size() < 100) {
                owner.add("added while written");
            }
            out.defaultWriteObject();
        }
    }

    static final class Basket implements Serializable {
        private static final long serialVersionUID = 1L;
        ArrayList<Object> items = new ArrayList<>();
        TreeMap<String, Integer> counts = new TreeMap<>();
    }

    @Test
    void aListChangedWhileItIsWrittenIsStoredFromASnapshotNotAFailure() throws Exception {
        Basket basket = new Basket();
        Grower grower = new Grower();
        grower.owner = basket.items;
        basket.items.add(grower);
        basket.counts.put("a", 1);
        Basket store = (Basket) viaStore(basket);
        assertThat(store.items).isNotEmpty();
        assertThat(store.items.get(0)).isInstanceOf(Grower.class);
        assertThat(store.counts).containsEntry("a", 1);
    }
}
