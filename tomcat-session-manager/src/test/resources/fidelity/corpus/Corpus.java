package corpus;

import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectInputStream;
import java.io.ObjectOutput;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamField;
import java.io.Serializable;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.net.URI;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.Period;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.AbstractList;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Currency;
import java.util.Date;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.PriorityQueue;
import java.util.Properties;
import java.util.Set;
import java.util.SortedSet;
import java.util.Stack;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.Vector;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.catalina.authenticator.SavedRequest;
import org.apache.catalina.realm.GenericPrincipal;
import org.hibernate.collection.spi.PersistentBag;
import org.hibernate.collection.spi.PersistentSet;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.web.authentication.WebAuthenticationDetails;
import org.springframework.security.web.savedrequest.DefaultSavedRequest;
import org.springframework.security.web.savedrequest.SavedCookie;

/**
 * Session attribute values of the kinds that JDK serialization round-trips and naive Kryo does
 * not. Compiled at test time into a webapp's WEB-INF/classes (or its own class loader), never on
 * the test class path, so that the session store resolves them through the webapp's loader.
 * {@link #values()} builds them afresh and deterministically; {@link #probe} exercises the
 * behaviour of a copy, so two copies can be compared by what they do, not only by their fields.
 */
public final class Corpus implements Serializable {

    private static final long serialVersionUID = 1L;

    /** State of the outer instance that an inner class sees. */
    String outerLabel = "outer";

    // ---- application classes of the kinds the issue names ----

    /** A JDK list subclass with its own field. */
    public static final class TaggedList extends ArrayList<String> {
        private static final long serialVersionUID = 1L;
        String tag;
    }

    /** A JDK map subclass overriding behaviour with its own field. */
    public static final class DefaultingMap extends HashMap<String, String> {
        private static final long serialVersionUID = 1L;
        final String fallback;

        DefaultingMap(String fallback) {
            this.fallback = fallback;
        }

        @Override
        public String get(Object key) {
            return containsKey(key) ? super.get(key) : fallback;
        }
    }

    /** An LRU map whose bound is a field, as caches kept in sessions are. */
    public static final class BoundedMap<K, V> extends LinkedHashMap<K, V> {
        private static final long serialVersionUID = 1L;
        private final int maxEntries;

        BoundedMap(int maxEntries) {
            super(16, 0.75f, true);
            this.maxEntries = maxEntries;
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > maxEntries;
        }
    }

    /** A serializable comparator with state. */
    public static final class ByLength implements Comparator<String>, Serializable {
        private static final long serialVersionUID = 1L;
        final boolean longestFirst;

        ByLength(boolean longestFirst) {
            this.longestFirst = longestFirst;
        }

        @Override
        public int compare(String a, String b) {
            int byLength = Integer.compare(a.length(), b.length());
            int result = byLength != 0 ? byLength : a.compareTo(b);
            return longestFirst ? -result : result;
        }
    }

    public abstract static class Greeting implements Serializable {
        private static final long serialVersionUID = 1L;

        public abstract String greet(String name);
    }

    /** Inner (non-static) class: it references the outer instance. */
    public class Counter implements Serializable {
        private static final long serialVersionUID = 1L;
        int count;

        public String describe() {
            return outerLabel + ":" + count;
        }
    }

    public enum Operation {
        PLUS {
            @Override
            public int apply(int a, int b) {
                return a + b;
            }
        },
        TIMES {
            @Override
            public int apply(int a, int b) {
                return a * b;
            }
        };

        public abstract int apply(int a, int b);
    }

    public enum Plan { FREE, PRO, ENTERPRISE }

    public record LineItem(String sku, int quantity, BigDecimal unitPrice) implements Serializable {
    }

    public record Checkout(String id, List<LineItem> items, Plan plan, Instant at) implements Serializable {
        public Checkout {
            if (items == null) {
                throw new IllegalArgumentException("items");
            }
        }
    }

    public record Schedule(LocalDate day, LocalTime start, Duration length, ZoneId zone, OffsetDateTime booked,
            Period notice, YearMonth month, MonthDay anniversary) implements Serializable {
    }

    /** A plain graph with a cycle. */
    public static final class Node implements Serializable {
        private static final long serialVersionUID = 1L;
        String label;
        Node next;
        List<Node> seen = new ArrayList<>();
    }

    /** A cycle that runs through a class only Java serialization handles (a map subclass). */
    public static final class Parent implements Serializable {
        private static final long serialVersionUID = 1L;
        String name;
        BoundedMap<String, Child> children = new BoundedMap<>(10);
    }

    public static final class Child implements Serializable {
        private static final long serialVersionUID = 1L;
        String name;
        Parent parent;
    }

    /** Two fields referencing one list: sharing inside one attribute. */
    public static final class Shares implements Serializable {
        private static final long serialVersionUID = 1L;
        List<String> first;
        List<String> second;
        Map<String, String> view;
        Map<String, String> backing;
    }

    public static final class Versioned implements Externalizable {
        private static final long serialVersionUID = 1L;
        String name;
        int version;
        transient String derived;

        public Versioned() {
        }

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeByte(2);
            out.writeUTF(name);
            out.writeInt(version);
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException {
            in.readByte();
            name = in.readUTF();
            version = in.readInt();
            derived = name + "#" + version;
        }
    }

    /** Custom writeObject/readObject that recompute transient state. */
    public static final class Recomputed implements Serializable {
        private static final long serialVersionUID = 1L;
        String text;
        transient int length;
        transient int reads;

        private void writeObject(ObjectOutputStream out) throws IOException {
            out.defaultWriteObject();
        }

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            length = text.length();
            reads++;
        }
    }

    public static final class Singleton implements Serializable {
        private static final long serialVersionUID = 1L;
        public static final Singleton INSTANCE = new Singleton();

        private Singleton() {
        }

        private Object readResolve() {
            return INSTANCE;
        }
    }

    public static class Base {
        String baseField = "from constructor";

        public Base() {
        }
    }

    /** Serializable subclass of a non-serializable class: Java serialization runs Base's constructor. */
    public static final class Derived extends Base implements Serializable {
        private static final long serialVersionUID = 1L;
        String own;
    }

    /** Only the fields listed in serialPersistentFields are written. */
    public static final class Selective implements Serializable {
        private static final long serialVersionUID = 1L;
        private static final ObjectStreamField[] serialPersistentFields = {new ObjectStreamField("kept", String.class)};
        String kept;
        String dropped;
    }

    /**
     * A lazily loaded collection, as ORMs hand out: iterating it outside its unit of work throws;
     * it serializes itself through writeReplace as a placeholder that reads back uninitialized.
     */
    public static final class LazyItems<E> extends AbstractList<E> implements Serializable {
        private static final long serialVersionUID = 1L;
        final String role;

        public LazyItems(String role) {
            this.role = role;
        }

        @Override
        public E get(int index) {
            throw new IllegalStateException("failed to lazily initialize a collection of role: " + role + ", no session");
        }

        @Override
        public int size() {
            throw new IllegalStateException("failed to lazily initialize a collection of role: " + role + ", no session");
        }

        @Override
        public Iterator<E> iterator() {
            throw new IllegalStateException("failed to lazily initialize a collection of role: " + role + ", no session");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LazyItems<?> other && other.role.equals(role);
        }

        @Override
        public int hashCode() {
            return role.hashCode();
        }

        @Override
        public String toString() {
            return "uninitialized " + role;
        }

        private Object writeReplace() {
            return new Placeholder(role);
        }

        private record Placeholder(String role) implements Serializable {
            private Object readResolve() {
                return new LazyItems<>(role);
            }
        }
    }

    /** What a security context holding a lazy collection looks like to the session store. */
    public static final class Account implements Serializable {
        private static final long serialVersionUID = 1L;
        final String user;
        final List<String> orders;

        public Account(String user, List<String> orders) {
            this.user = user;
            this.orders = orders;
        }

        @Override
        public String toString() {
            return user + " with " + orders;
        }
    }

    /**
     * Appends to its list while the list is being serialized, once: what another request thread
     * does to a shared session attribute, made deterministic. The first write of the list fails
     * with a ConcurrentModificationException; a second write sees the grown list.
     */
    public static final class Grower implements Serializable {
        private static final long serialVersionUID = 1L;
        transient List<Object> owner;
        transient boolean grown;

        private void writeObject(ObjectOutputStream out) throws IOException {
            if (!grown && owner != null) {
                grown = true;
                owner.add("added concurrently");
            }
            out.defaultWriteObject();
        }

        @Override
        public String toString() {
            return "grower";
        }
    }

    /** A list modified while the session store writes it. */
    public static List<Object> growingList() {
        List<Object> list = new ArrayList<>();
        Grower grower = new Grower();
        grower.owner = list;
        list.add(grower);
        list.add("last");
        return list;
    }

    /** The attribute of the issue's second failing input. */
    public static Account lazyAccount() {
        return new Account("ann", new LazyItems<>("Account.orders"));
    }

    // ---- the corpus ----

    /** Name to value, built afresh (deterministic, so another node builds an equal corpus). */
    public static Map<String, Object> values() {
        Map<String, Object> v = new LinkedHashMap<>();
        Corpus outer = new Corpus();

        // JDK collections
        v.put("ArrayList with null", new ArrayList<>(Arrays.asList("a", null, "c")));
        v.put("LinkedList", new LinkedList<>(List.of(3, 1, 2)));
        Map<String, Integer> hashMap = new HashMap<>();
        hashMap.put(null, 0);
        hashMap.put("one", 1);
        v.put("HashMap with null key", hashMap);
        v.put("HashSet", new HashSet<>(List.of("x", "y")));
        v.put("small HashSet growing", new HashSet<>(List.of("s3", "s1", "s2")));
        v.put("small HashMap growing", new HashMap<>(Map.of("m1", 1)));
        v.put("LinkedHashSet", new LinkedHashSet<>(List.of("z", "a", "m")));
        v.put("ArrayDeque", new ArrayDeque<>(List.of("head", "tail")));
        v.put("Vector", new Vector<>(List.of(1, 2)));
        Stack<String> stack = new Stack<>();
        stack.push("bottom");
        stack.push("top");
        v.put("Stack", stack);
        v.put("Hashtable", new Hashtable<>(Map.of("k", "v")));
        Properties defaults = new Properties();
        defaults.setProperty("color", "blue");
        Properties properties = new Properties(defaults);
        properties.setProperty("size", "XL");
        v.put("Properties with defaults", properties);
        IdentityHashMap<String, String> identity = new IdentityHashMap<>();
        identity.put("id", "1");
        v.put("IdentityHashMap", identity);
        v.put("ConcurrentHashMap", new ConcurrentHashMap<>(Map.of("a", List.of(1))));
        v.put("CopyOnWriteArraySet", new CopyOnWriteArraySet<>(List.of("p", "q")));
        Set<String> keySet = ConcurrentHashMap.newKeySet();
        keySet.add("member");
        v.put("ConcurrentHashMap.newKeySet", keySet);

        // subclasses of JDK collections and maps
        TaggedList tagged = new TaggedList();
        tagged.add("item");
        tagged.tag = "tag-1";
        v.put("ArrayList subclass with a field", tagged);
        DefaultingMap defaulting = new DefaultingMap("n/a");
        defaulting.put("known", "yes");
        v.put("HashMap subclass overriding get", defaulting);
        BoundedMap<String, Integer> bounded = new BoundedMap<>(3);
        bounded.put("a", 1);
        bounded.put("b", 2);
        v.put("LinkedHashMap subclass bounded by a field", bounded);
        v.put("anonymous LinkedHashMap capturing its bound", capturingLru(3));

        // sorted collections with comparators, access order
        TreeMap<String, Integer> caseInsensitive = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        caseInsensitive.put("Beta", 2);
        caseInsensitive.put("alpha", 1);
        v.put("TreeMap case-insensitive", caseInsensitive);
        TreeSet<String> byLength = new TreeSet<>(new ByLength(true));
        byLength.addAll(List.of("kiwi", "fig", "banana"));
        v.put("TreeSet with a comparator class", byLength);
        TreeSet<Integer> reversed = new TreeSet<>(Comparator.reverseOrder());
        reversed.addAll(List.of(1, 3, 2));
        v.put("TreeSet reverse order", reversed);
        ConcurrentSkipListSet<String> skipList = new ConcurrentSkipListSet<>(new ByLength(false));
        skipList.addAll(List.of("ccc", "a", "bb"));
        v.put("ConcurrentSkipListSet with comparator", skipList);
        PriorityQueue<String> queue = new PriorityQueue<>(new ByLength(true));
        queue.addAll(List.of("x", "xxx", "xx"));
        v.put("PriorityQueue with comparator", queue);
        TreeMap<String, String> lambdaSorted = new TreeMap<>((Comparator<String> & Serializable) (a, b) -> b.compareTo(a));
        lambdaSorted.put("a", "1");
        lambdaSorted.put("b", "2");
        v.put("TreeMap with a serializable lambda comparator", lambdaSorted);
        LinkedHashMap<String, Integer> accessOrder = new LinkedHashMap<>(16, 0.75f, true);
        accessOrder.put("first", 1);
        accessOrder.put("second", 2);
        accessOrder.put("third", 3);
        v.put("LinkedHashMap in access order", accessOrder);
        EnumMap<Operation, String> enumMap = new EnumMap<>(Operation.class);
        enumMap.put(Operation.TIMES, "x");
        v.put("EnumMap", enumMap);
        v.put("EnumSet", EnumSet.of(Plan.PRO, Plan.ENTERPRISE));

        // Collections.* wrappers
        v.put("unmodifiableList of LinkedList", Collections.unmodifiableList(new LinkedList<>(List.of("u", "v"))));
        LinkedHashMap<String, Integer> innerAccess = new LinkedHashMap<>(16, 0.75f, true);
        innerAccess.put("one", 1);
        innerAccess.put("two", 2);
        v.put("unmodifiableMap of access-ordered map", Collections.unmodifiableMap(innerAccess));
        v.put("unmodifiableSortedSet with comparator",
                Collections.unmodifiableSortedSet(new TreeSet<>(byLength)));
        TreeMap<String, Integer> sortedInner = new TreeMap<>(new ByLength(false));
        sortedInner.put("long", 1);
        sortedInner.put("s", 2);
        v.put("synchronizedNavigableMap with comparator", Collections.synchronizedNavigableMap(sortedInner));
        v.put("checkedList", Collections.checkedList(new ArrayList<>(List.of("typed")), String.class));
        v.put("synchronizedList", Collections.synchronizedList(new ArrayList<>(List.of(1, 2))));
        v.put("unmodifiableCollection", Collections.unmodifiableCollection(new ArrayList<>(List.of("c"))));
        v.put("nCopies", Collections.nCopies(3, "n"));
        v.put("singletonMap", Collections.singletonMap("k", List.of("v")));
        v.put("emptySortedSet", Collections.emptySortedSet());
        v.put("List.of / Map.of / Set.of", List.of(Map.of("a", 1, "b", 2), Set.of("s"), List.of()));
        v.put("Arrays.asList", Arrays.asList("x", "y"));

        // inner, anonymous and local classes, lambdas
        Counter counter = outer.new Counter();
        counter.count = 7;
        v.put("inner class", counter);
        String salutation = "Hello";
        v.put("anonymous class capturing state", new Greeting() {
            private static final long serialVersionUID = 1L;

            @Override
            public String greet(String name) {
                return salutation + ", " + name;
            }
        });
        int step = 5;
        class Stepper implements Serializable {
            private static final long serialVersionUID = 1L;
            int value;

            int next() {
                value += step;
                return value;
            }
        }
        Stepper stepper = new Stepper();
        stepper.value = 10;
        v.put("local class capturing state", stepper);
        String captured = "captured";
        v.put("serializable lambda capturing state", (Supplier<String> & Serializable) () -> captured + "!");

        // records and enums
        v.put("record with nested list", new Checkout("c-1",
                new ArrayList<>(List.of(new LineItem("sku-1", 2, new BigDecimal("9.90")))), Plan.PRO,
                Instant.parse("2026-11-28T10:15:30Z")));
        v.put("enum constant with a body", Operation.TIMES);
        v.put("enums in a list", new ArrayList<>(List.of(Operation.PLUS, Plan.FREE)));

        // java.time
        v.put("ZonedDateTime in a region", ZonedDateTime.of(2026, 3, 29, 2, 30, 0, 0, ZoneId.of("Europe/Paris")));
        v.put("record of java.time values", new Schedule(LocalDate.of(2026, 2, 28), LocalTime.of(9, 30, 15, 500),
                Duration.ofSeconds(5400, 1), ZoneId.of("America/New_York"),
                OffsetDateTime.of(LocalDateTime.of(2026, 1, 1, 0, 0), ZoneOffset.ofHoursMinutes(5, 30)),
                Period.of(1, 2, 3), YearMonth.of(2026, 12), MonthDay.of(2, 29)));

        // cyclic graphs and sharing
        List<Object> selfList = new ArrayList<>();
        selfList.add("self");
        selfList.add(selfList);
        v.put("list containing itself", selfList);
        Node a = new Node();
        Node b = new Node();
        a.label = "a";
        b.label = "b";
        a.next = b;
        b.next = a;
        a.seen.add(b);
        b.seen.add(a);
        v.put("node cycle", a);
        Parent parent = new Parent();
        parent.name = "p";
        Child child = new Child();
        child.name = "c";
        child.parent = parent;
        parent.children.put("c", child);
        v.put("cycle through a map subclass", parent);
        Shares shares = new Shares();
        shares.first = new ArrayList<>(List.of("shared"));
        shares.second = shares.first;
        shares.backing = new HashMap<>(Map.of("k", "v"));
        shares.view = Collections.unmodifiableMap(shares.backing);
        v.put("sharing inside one value", shares);

        // serialization hooks
        Versioned versioned = new Versioned();
        versioned.name = "ext";
        versioned.version = 3;
        v.put("Externalizable", versioned);
        Recomputed recomputed = new Recomputed();
        recomputed.text = "hello";
        recomputed.length = 5;
        v.put("writeObject/readObject", recomputed);
        v.put("readResolve singleton", Singleton.INSTANCE);
        Derived derived = new Derived();
        derived.own = "own";
        derived.baseField = "changed after construction";
        v.put("Serializable subclass of a non-serializable class", derived);
        Selective selective = new Selective();
        selective.kept = "kept";
        selective.dropped = "dropped";
        v.put("serialPersistentFields", selective);
        v.put("lazy collection with writeReplace", lazyAccount());

        // other JDK values
        Timestamp timestamp = Timestamp.valueOf("2026-11-28 10:15:30.123456789");
        v.put("java.sql.Timestamp with nanos", timestamp);
        v.put("Date", new Date(1_700_000_000_000L));
        v.put("Locale with script and extension", Locale.forLanguageTag("zh-Hant-TW-u-ca-chinese"));
        v.put("legacy Locale", new Locale("ja", "JP", "JP"));
        v.put("BigDecimal keeps its scale", new BigDecimal("10.500"));
        v.put("URI", URI.create("https://example.com/a?b=c#d"));
        v.put("UUID and Currency", new ArrayList<>(List.of(UUID.fromString("123e4567-e89b-12d3-a456-426614174000"),
                Currency.getInstance("EUR"))));
        v.put("AtomicLong", new AtomicLong(42));
        BitSet bits = new BitSet();
        bits.set(3);
        bits.set(64);
        v.put("BitSet", bits);
        v.put("StringBuilder", new StringBuilder("built"));
        v.put("int[][]", new int[][] {{1, 2}, {3}});
        Object[] mixed = new Object[3];
        mixed[0] = "m";
        mixed[1] = tagged;
        mixed[2] = tagged;
        v.put("Object[] with a repeated element", mixed);
        v.put("exception with a cause", new IllegalStateException("outer", new IOException("inner")));

        // framework objects applications keep in sessions
        v.put("Spring SecurityContextImpl", securityContext());
        v.put("Spring DefaultSavedRequest", savedRequest());
        v.put("Tomcat CSRF nonce cache", csrfNonceCache());
        v.put("Tomcat GenericPrincipal", new GenericPrincipal("ann", List.of("user", "admin"), null, null, null,
                new HashMap<>(Map.of("mail", "ann@example.com"))));
        v.put("Tomcat FORM SavedRequest", formSavedRequest());
        PersistentSet<String> persistentSet = new PersistentSet<>();
        persistentSet.setSnapshot(42L, "corpus.Owner.tags", null);
        v.put("Hibernate PersistentSet never initialized", persistentSet);
        PersistentBag<String> persistentBag = new PersistentBag<>();
        persistentBag.setSnapshot(43L, "corpus.Owner.lines", null);
        v.put("Hibernate PersistentBag never initialized", persistentBag);
        v.putAll(MoreKinds.values());
        return v;
    }

    /** As Tomcat's CsrfPreventionFilter.LruCache builds its map: the bound is a captured local. */
    static Map<String, String> capturingLru(int cacheSize) {
        Map<String, String> cache = new LinkedHashMap<>() {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > cacheSize;
            }
        };
        cache.put("n1", "n1");
        cache.put("n2", "n2");
        return cache;
    }

    static SecurityContextImpl securityContext() {
        List<GrantedAuthority> authorities = AuthorityUtils.createAuthorityList("ROLE_USER", "ROLE_ADMIN");
        User user = new User("ann", "", true, true, true, true, authorities);
        UsernamePasswordAuthenticationToken token = UsernamePasswordAuthenticationToken.authenticated(user, null,
                authorities);
        token.setDetails(new WebAuthenticationDetails("10.0.0.7", "F00D"));
        return new SecurityContextImpl(token);
    }

    static DefaultSavedRequest savedRequest() {
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.put("Accept", List.of("text/html"));
        Map<String, String[]> parameters = new TreeMap<>();
        parameters.put("q", new String[] {"shoes", "red"});
        return new DefaultSavedRequest.Builder().setScheme("https").setServerName("shop.example.com")
                .setServerPort(443).setRequestURI("/app/search").setContextPath("/app").setServletPath("/search")
                .setQueryString("q=shoes&q=red").setRequestURL("https://shop.example.com/app/search")
                .setMethod("GET").setCookies(List.of(new SavedCookie("pref", "dark", null, 60, "/", false)))
                .setLocales(List.of(Locale.UK)).setHeaders(headers).setParameters(parameters).build();
    }

    static Object csrfNonceCache() {
        try {
            Class<?> type = Class.forName("org.apache.catalina.filters.CsrfPreventionFilter$LruCache");
            Constructor<?> constructor = type.getDeclaredConstructor(int.class);
            constructor.setAccessible(true);
            Object cache = constructor.newInstance(5);
            Method add = type.getMethod("add", Object.class);
            add.setAccessible(true);
            for (int i = 1; i <= 3; i++) {
                add.invoke(cache, "nonce-" + i);
            }
            return cache;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static SavedRequest formSavedRequest() {
        SavedRequest saved = new SavedRequest();
        saved.setMethod("POST");
        saved.setRequestURI("/app/protected/order");
        saved.setDecodedRequestURI("/app/protected/order");
        saved.setQueryString("step=2");
        saved.addHeader("Content-Type", "application/x-www-form-urlencoded");
        saved.addLocale(Locale.FRANCE);
        saved.addCookie(new jakarta.servlet.http.Cookie("theme", "dark"));
        org.apache.tomcat.util.buf.ByteChunk body = new org.apache.tomcat.util.buf.ByteChunk();
        try {
            body.append("item=42".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, 7);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        saved.setBody(body);
        saved.setContentType("application/x-www-form-urlencoded");
        return saved;
    }

    // ---- probes: what a copy does ----

    /**
     * Exercises a copy (it may change it) and returns what it observed; two copies that keep the
     * same observable state give equal lists.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static List<String> probe(String name, Object value) {
        List<String> more = MoreKinds.probe(name, value);
        if (more != null) {
            return more;
        }
        List<String> seen = new ArrayList<>();
        try {
            switch (name) {
                case "HashMap subclass overriding get" -> seen.add(((Map) value).get("unknown") + "");
                case "small HashSet growing", "small HashMap growing" -> {
                    for (int i = 0; i < 40; i++) {
                        if (value instanceof Set set) {
                            set.add("e" + i);
                        } else {
                            ((Map) value).put("e" + i, i);
                        }
                        seen.add(value.toString());
                    }
                }
                case "LinkedHashMap subclass bounded by a field", "anonymous LinkedHashMap capturing its bound",
                        "LinkedHashMap in access order" -> {
                    Map<String, Object> map = (Map<String, Object>) value;
                    map.get(map.keySet().iterator().next());
                    for (int i = 0; i < 4; i++) {
                        map.put("new" + i, "v");
                    }
                    seen.add(map.keySet().toString());
                }
                case "unmodifiableMap of access-ordered map" -> {
                    Map<String, Object> map = (Map<String, Object>) value;
                    map.get("one");
                    seen.add(map.keySet().toString());
                }
                case "Properties with defaults" -> seen.add(((Properties) value).getProperty("color"));
                case "TreeMap case-insensitive" -> seen.add(((Map) value).get("BETA") + "");
                case "TreeSet with a comparator class", "TreeSet reverse order", "ConcurrentSkipListSet with comparator",
                        "unmodifiableSortedSet with comparator" -> {
                    SortedSet set = (SortedSet) value;
                    seen.add(String.valueOf(set.comparator() == null ? null : set.comparator().getClass()));
                    if (!name.startsWith("unmodifiable")) {
                        set.add(set.first() instanceof Integer ? (Object) 0 : "dd");
                    }
                    seen.add(set.toString());
                }
                case "PriorityQueue with comparator" -> {
                    PriorityQueue<String> queue = (PriorityQueue<String>) value;
                    queue.add("xxxx");
                    while (!queue.isEmpty()) {
                        seen.add(queue.poll());
                    }
                }
                case "TreeMap with a serializable lambda comparator", "synchronizedNavigableMap with comparator" -> {
                    NavigableMap map = (NavigableMap) value;
                    map.put("mm", "3");
                    seen.add(map.toString());
                }
                case "checkedList" -> {
                    try {
                        ((List) value).add(1);
                        seen.add("accepted an Integer");
                    } catch (ClassCastException e) {
                        seen.add("refused an Integer");
                    }
                }
                case "synchronizedList", "ArrayList subclass with a field" -> {
                    ((List) value).add("added");
                    seen.add(value.toString());
                }
                case "inner class" -> seen.add(((Counter) value).describe());
                case "anonymous class capturing state" -> seen.add(((Greeting) value).greet("Bob"));
                case "serializable lambda capturing state" -> seen.add(((Supplier<?>) value).get().toString());
                case "enum constant with a body" -> seen.add(((Operation) value).apply(6, 7) + " "
                        + (value == Operation.TIMES));
                case "readResolve singleton" -> seen.add(String.valueOf(value == Singleton.INSTANCE));
                case "Externalizable" -> seen.add(((Versioned) value).derived);
                case "writeObject/readObject" -> seen.add(((Recomputed) value).length + "/" + ((Recomputed) value).reads);
                case "sharing inside one value" -> {
                    Shares shares = (Shares) value;
                    shares.first.add("through first");
                    shares.backing.put("k2", "through backing");
                    seen.add(shares.second.toString());
                    seen.add(shares.view.toString());
                }
                case "Tomcat CSRF nonce cache" -> {
                    Method add = value.getClass().getMethod("add", Object.class);
                    Method contains = value.getClass().getMethod("contains", Object.class);
                    add.setAccessible(true);
                    contains.setAccessible(true);
                    add.invoke(value, "nonce-4");
                    for (int i = 1; i <= 4; i++) {
                        seen.add("nonce-" + i + "=" + contains.invoke(value, "nonce-" + i));
                    }
                    for (int i = 5; i <= 8; i++) {
                        add.invoke(value, "nonce-" + i);
                    }
                    for (int i = 1; i <= 8; i++) {
                        seen.add("after=" + contains.invoke(value, "nonce-" + i));
                    }
                }
                case "Tomcat GenericPrincipal" -> {
                    GenericPrincipal principal = (GenericPrincipal) value;
                    seen.add(principal.getName() + Arrays.toString(principal.getRoles()) + principal.hasRole("admin")
                            + principal.getAttribute("mail"));
                }
                case "Hibernate PersistentSet never initialized", "Hibernate PersistentBag never initialized" -> {
                    var collection = (org.hibernate.collection.spi.AbstractPersistentCollection<?>) value;
                    seen.add(collection.wasInitialized() + " " + collection.getRole() + " " + collection.getKey());
                    try {
                        ((Collection<?>) value).iterator();
                        seen.add("iterable");
                    } catch (RuntimeException e) {
                        seen.add(e.getClass().getName());
                    }
                }
                case "lazy collection with writeReplace" -> seen.add(value.toString());
                case "exception with a cause" -> {
                    Throwable t = (Throwable) value;
                    seen.add(t + " caused by " + t.getCause() + " at " + t.getStackTrace()[0]);
                }
                case "Spring SecurityContextImpl" -> {
                    var authentication = ((SecurityContextImpl) value).getAuthentication();
                    seen.add(authentication.getName() + authentication.isAuthenticated() + authentication.getAuthorities()
                            + authentication.getDetails() + ((User) authentication.getPrincipal()).getAuthorities());
                }
                case "Spring DefaultSavedRequest" -> {
                    DefaultSavedRequest saved = (DefaultSavedRequest) value;
                    seen.add(saved.getRedirectUrl() + saved.getHeaderValues("accept") + saved.getParameterMap().keySet()
                            + Arrays.toString(saved.getParameterValues("q")) + saved.getCookies().get(0).getName());
                }
                default -> {
                    if (value.getClass().getMethod("toString").getDeclaringClass() != Object.class) {
                        seen.add(String.valueOf(value)); // identity hashes would differ between copies
                    }
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            seen.add("probe threw " + e);
        }
        return seen;
    }
}
