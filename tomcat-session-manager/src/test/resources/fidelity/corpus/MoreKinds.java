package corpus;

import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectOutput;
import java.io.Serializable;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.Month;
import java.time.OffsetTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.chrono.JapaneseDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Function;
import org.apache.catalina.realm.GenericPrincipal;
import org.hibernate.collection.spi.PersistentList;
import org.hibernate.collection.spi.PersistentMap;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.authentication.RememberMeAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextImpl;

/**
 * More values of the same kinds as {@link Corpus}, written to break the codec rather than to
 * show it: other subclasses, comparators, wrappers, captured state, records, enums, dates,
 * cycles and framework objects. Part of the corpus ({@link Corpus#values()} includes them).
 */
public final class MoreKinds implements Serializable {

    private static final long serialVersionUID = 1L;

    final List<String> outerItems = new ArrayList<>(List.of("o1"));

    public abstract static class SerializableComparator implements Comparator<String>, Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** A TreeMap subclass with a field. */
    public static final class Index extends TreeMap<String, Integer> {
        private static final long serialVersionUID = 1L;
        String label = "idx";

        Index(Comparator<String> order) {
            super(order);
        }
    }

    /** A LinkedHashSet subclass that refuses blanks. */
    public static final class NonBlankSet extends LinkedHashSet<String> {
        private static final long serialVersionUID = 1L;
        int refused;

        @Override
        public boolean add(String s) {
            if (s.isBlank()) {
                refused++;
                return false;
            }
            return super.add(s);
        }
    }

    /** An ArrayDeque subclass with a bound. */
    public static final class History extends ArrayDeque<String> {
        private static final long serialVersionUID = 1L;
        final int max;

        History(int max) {
            this.max = max;
        }

        @Override
        public void addLast(String s) {
            if (size() == max) {
                removeFirst();
            }
            super.addLast(s);
        }
    }

    public enum Level {
        LOW, HIGH {
            @Override
            public String describe() {
                return "high!" + hits;
            }
        };

        /** Mutable enum state: Java serialization keeps the constant, not this field. */
        int hits;

        public String describe() {
            return name().toLowerCase() + hits;
        }
    }

    public record Tagged(String name, String[] tags, Level level) implements Serializable {
    }

    public record Box(List<Object> items) implements Serializable {
    }

    public record Recent(LinkedHashMap<String, Integer> lru, Map<String, Integer> view) implements Serializable {
    }

    public static class Plain implements Serializable {
        private static final long serialVersionUID = 1L;
        String name = "plain";

        public String name() {
            return name;
        }
    }

    public static final class Link implements Serializable {
        private static final long serialVersionUID = 1L;
        String id;
        Link previous;
        Link next;
        Map<String, Object> attributes = new HashMap<>();
    }

    public static class Point implements Serializable {
        private static final long serialVersionUID = 1L;
        int x;
        int y;
    }

    public static final class Labeled extends Point implements Externalizable {
        private static final long serialVersionUID = 1L;
        String label;

        public Labeled() {
        }

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeUTF(label == null ? "" : label);
            out.writeInt(x);
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException {
            label = in.readUTF();
            x = in.readInt();
        }
    }

    /** Inner class whose outer instance is also reachable directly. */
    public class Item implements Serializable {
        private static final long serialVersionUID = 1L;
        String name;

        public List<String> outer() {
            return outerItems;
        }
    }

    public static final class Owner implements Serializable {
        private static final long serialVersionUID = 1L;
        MoreKinds outer;
        Item item;
    }

    public interface Greeter {
        String greet(String name);
    }

    /** The handler of a JDK dynamic proxy, with state. */
    public static final class Prefixing implements java.lang.reflect.InvocationHandler, Serializable {
        private static final long serialVersionUID = 1L;
        final String prefix;

        Prefixing(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args) {
            return switch (method.getName()) {
                case "greet" -> prefix + args[0];
                case "toString" -> "proxy(" + prefix + ")";
                case "hashCode" -> prefix.hashCode();
                default -> args[0] != null && java.lang.reflect.Proxy.isProxyClass(args[0].getClass())
                        && java.lang.reflect.Proxy.getInvocationHandler(args[0]) instanceof Prefixing other
                        && other.prefix.equals(prefix); // equals
            };
        }
    }

    public static Map<String, Object> values() {
        Map<String, Object> v = new LinkedHashMap<>();

        Index index = new Index(Comparator.nullsFirst(Comparator.<String>reverseOrder()));
        index.put("a", 1);
        index.put("b", 2);
        v.put("more: TreeMap subclass with nullsFirst(reverseOrder)", index);
        NonBlankSet nonBlank = new NonBlankSet();
        nonBlank.add("x");
        nonBlank.add(" ");
        v.put("more: LinkedHashSet subclass overriding add", nonBlank);
        History history = new History(2);
        history.addLast("h1");
        history.addLast("h2");
        v.put("more: ArrayDeque subclass with a bound", history);
        v.put("more: double-brace HashSet", new HashSet<String>() {
            private static final long serialVersionUID = 1L;
            {
                add("db1");
                add("db2");
            }
        });

        TreeSet<String> byLengthLambda = new TreeSet<>(Comparator.comparing(
                (Function<String, Integer> & Serializable) String::length).thenComparing(Comparator.naturalOrder()));
        byLengthLambda.addAll(List.of("ccc", "a", "bb"));
        v.put("more: TreeSet with Comparator.comparing(serializable lambda)", byLengthLambda);
        TreeSet<String> reversedCaseInsensitive = new TreeSet<>(Collections.reverseOrder(String.CASE_INSENSITIVE_ORDER));
        reversedCaseInsensitive.addAll(List.of("b", "A", "c"));
        v.put("more: TreeSet reverseOrder(CASE_INSENSITIVE_ORDER)", reversedCaseInsensitive);
        ConcurrentSkipListMap<String, String> skipMap = new ConcurrentSkipListMap<>(String.CASE_INSENSITIVE_ORDER);
        skipMap.put("K", "v");
        v.put("more: ConcurrentSkipListMap with comparator", skipMap);
        v.put("more: TreeSet with an anonymous comparator", anonymousComparatorSet());

        TreeMap<String, Integer> sorted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        sorted.put("Zed", 26);
        sorted.put("amy", 1);
        v.put("more: unmodifiableSortedMap with comparator", Collections.unmodifiableSortedMap(sorted));
        v.put("more: unmodifiableNavigableSet", Collections.unmodifiableNavigableSet(new TreeSet<>(byLengthLambda)));
        v.put("more: synchronizedSortedSet", Collections.synchronizedSortedSet(new TreeSet<>(List.of(3, 1))));
        v.put("more: checkedMap", Collections.checkedMap(new HashMap<>(Map.of("k", 1)), String.class, Integer.class));
        v.put("more: checkedSortedSet", Collections.checkedSortedSet(new TreeSet<>(List.of("s")), String.class));
        v.put("more: emptyNavigableMap", Collections.emptyNavigableMap());
        v.put("more: unmodifiableList of List.of", Collections.unmodifiableList(List.of("l1", "l2")));
        v.put("more: unmodifiableSet of EnumSet", Collections.unmodifiableSet(EnumSet.of(Level.HIGH)));
        v.put("more: unmodifiableMap of unmodifiableMap",
                Collections.unmodifiableMap(Collections.unmodifiableMap(new HashMap<>(Map.of("d", 1)))));
        v.put("more: unmodifiableCollection of HashSet",
                Collections.unmodifiableCollection(new HashSet<>(List.of("c1", "c2", "c3"))));
        LinkedHashMap<String, Integer> lru = new LinkedHashMap<>(4, 0.75f, true);
        lru.put("r1", 1);
        lru.put("r2", 2);
        v.put("more: record with an access-ordered map and its view",
                new Recent(lru, Collections.unmodifiableMap(lru)));

        Level.HIGH.hits = 0;
        v.put("more: record with an array and an enum with a body",
                new Tagged("t", new String[] {"a", "b"}, Level.HIGH));
        EnumMap<Level, List<String>> byLevel = new EnumMap<>(Level.class);
        byLevel.put(Level.HIGH, new ArrayList<>(List.of("x")));
        v.put("more: EnumMap keyed by an enum with a body", byLevel);
        record Local(String name, int count) implements Serializable {
        }
        v.put("more: local record", new Local("local", 2));
        enum Mode { ON, OFF }
        v.put("more: local enum", new ArrayList<>(List.of(Mode.OFF)));
        v.put("more: anonymous subclass of a plain class", new Plain() {
            private static final long serialVersionUID = 1L;

            @Override
            public String name() {
                return "anonymous " + name;
            }
        });
        MoreKinds outer = new MoreKinds();
        Owner owner = new Owner();
        owner.outer = outer;
        owner.item = outer.new Item();
        owner.item.name = "inner";
        v.put("more: inner class whose outer instance is shared", owner);

        v.put("more: java.time edge values", new ArrayList<>(List.of(
                ZonedDateTime.of(LocalDateTime.of(2026, 3, 29, 2, 30), ZoneId.of("Europe/Berlin")),
                Instant.MAX, LocalDateTime.MIN, Duration.ofSeconds(-1, 1), OffsetTime.of(23, 59, 59, 1, ZoneOffset.UTC),
                ZoneId.of("Asia/Kolkata"), DayOfWeek.SUNDAY, Month.FEBRUARY, JapaneseDate.of(2020, 1, 1))));

        Link first = new Link();
        Link second = new Link();
        first.id = "1";
        second.id = "2";
        first.next = second;
        second.previous = first;
        first.attributes.put("self", first);
        second.attributes.put("list", Collections.synchronizedList(new ArrayList<>(List.of(first))));
        v.put("more: doubly linked nodes, one cycle through a synchronized list", first);
        Map<String, Object> selfMap = new HashMap<>();
        selfMap.put("me", selfMap);
        selfMap.put("other", "x");
        v.put("more: map containing itself", selfMap);
        List<Object> boxItems = new ArrayList<>();
        Box box = new Box(boxItems);
        boxItems.add(box);
        v.put("more: record in a cycle", box);

        Labeled labeled = new Labeled();
        labeled.label = "L";
        labeled.x = 4;
        labeled.y = 9;
        v.put("more: Externalizable subclass of a Serializable class", labeled);

        v.put("more: JDK dynamic proxy of a webapp interface", java.lang.reflect.Proxy.newProxyInstance(
                MoreKinds.class.getClassLoader(), new Class<?>[] {Greeter.class}, new Prefixing("Hi ")));
        v.put("more: Class objects and arrays of webapp classes", new ArrayList<>(List.of(Greeter.class, int.class,
                Level[].class, new Level[] {Level.HIGH}, new Greeter[] {(Greeter) java.lang.reflect.Proxy.newProxyInstance(
                        MoreKinds.class.getClassLoader(), new Class<?>[] {Greeter.class}, new Prefixing("Yo "))})));
        v.put("more: Spring AnonymousAuthenticationToken", new AnonymousAuthenticationToken("key", "anonymousUser",
                AuthorityUtils.createAuthorityList("ROLE_ANONYMOUS")));
        v.put("more: Spring RememberMeAuthenticationToken", new SecurityContextImpl(new RememberMeAuthenticationToken(
                "key", "ann", List.of(new SimpleGrantedAuthority("ROLE_USER")))));
        v.put("more: Spring empty SecurityContextImpl", new SecurityContextImpl());
        v.put("more: Tomcat GenericPrincipal wrapping a user principal", new GenericPrincipal("ann",
                List.of("b", "a"), new GenericPrincipal("inner-ann")));
        PersistentList<String> list = new PersistentList<>();
        list.setSnapshot(7L, "corpus.Owner.list", null);
        v.put("more: Hibernate PersistentList never initialized", list);
        PersistentMap<String, String> map = new PersistentMap<>();
        map.setSnapshot(8L, "corpus.Owner.map", null);
        v.put("more: Hibernate PersistentMap never initialized", map);
        return v;
    }

    static SortedSet<String> anonymousComparatorSet() {
        int direction = -1;
        TreeSet<String> set = new TreeSet<>(new SerializableComparator() {
            private static final long serialVersionUID = 1L;

            @Override
            public int compare(String a, String b) {
                return direction * a.compareTo(b);
            }
        }.thenComparing(Comparator.naturalOrder()));
        set.addAll(List.of("p", "q"));
        return set;
    }

    /** Probes for the values above; null when {@code name} is not one of them. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static List<String> probe(String name, Object value) {
        List<String> seen = new ArrayList<>();
        switch (name) {
            case "more: LinkedHashSet subclass overriding add" -> {
                ((Set<String>) value).add("  ");
                ((Set<String>) value).add("y");
                seen.add(value + " " + ((NonBlankSet) value).refused);
            }
            case "more: ArrayDeque subclass with a bound" -> {
                ((History) value).addLast("h3");
                seen.add(value.toString());
            }
            case "more: TreeSet with Comparator.comparing(serializable lambda)",
                    "more: TreeSet reverseOrder(CASE_INSENSITIVE_ORDER)", "more: TreeSet with an anonymous comparator",
                    "more: checkedSortedSet", "more: synchronizedSortedSet" -> {
                try {
                    ((SortedSet) value).add(value.toString().contains("1") ? (Object) 2 : "dd");
                } catch (RuntimeException e) {
                    seen.add(e.getClass().getName());
                }
                seen.add(value.toString());
            }
            case "more: TreeMap subclass with nullsFirst(reverseOrder)", "more: ConcurrentSkipListMap with comparator" -> {
                ((Map) value).put("k", 0);
                seen.add(value.toString() + ((NavigableMap) value).firstKey());
            }
            case "more: checkedMap" -> {
                try {
                    ((Map) value).put("k2", "not an Integer");
                    seen.add("accepted");
                } catch (ClassCastException e) {
                    seen.add("refused");
                }
            }
            case "more: record with an access-ordered map and its view" -> {
                Recent recent = (Recent) value;
                recent.lru().get("r1");
                recent.lru().put("r3", 3);
                seen.add(recent.view().toString());
            }
            case "more: record with an array and an enum with a body" -> {
                Tagged tagged = (Tagged) value;
                seen.add(tagged.name() + Arrays.toString(tagged.tags()) + tagged.level().describe()
                        + (tagged.level() == Level.HIGH));
            }
            case "more: anonymous subclass of a plain class" -> seen.add(((Plain) value).name());
            case "more: JDK dynamic proxy of a webapp interface" -> seen.add(((Greeter) value).greet("Ann"));
            case "more: Class objects and arrays of webapp classes" -> {
                List<?> list = (List<?>) value;
                seen.add(Arrays.deepToString(list.toArray()));
                seen.add(((Greeter[]) list.get(4))[0].greet("Bo"));
            }
            case "more: inner class whose outer instance is shared" -> {
                Owner owner = (Owner) value;
                owner.outer.outerItems.add("o2");
                seen.add(owner.item.outer().toString() + (owner.item.outer() == owner.outer.outerItems));
            }
            case "more: map containing itself" -> seen.add(String.valueOf(((Map) value).get("me") == value));
            case "more: record in a cycle" -> seen.add(String.valueOf(((Box) value).items().get(0) == value));
            case "more: doubly linked nodes, one cycle through a synchronized list" -> {
                Link first = (Link) value;
                seen.add(String.valueOf(first.next.previous == first));
                seen.add(String.valueOf(first.attributes.get("self") == first));
                seen.add(String.valueOf(((List<?>) first.next.attributes.get("list")).get(0) == first));
            }
            default -> {
                return null;
            }
        }
        return seen;
    }
}
