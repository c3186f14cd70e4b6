package io.tomcatredis.session.fidelity;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * Compares two copies of one value by what an application can observe: class, equality where the
 * class defines it, iteration order and comparators of collections and maps, every field of
 * application and framework classes (transient ones included, whose value after a round trip is
 * observable), and the sharing structure (two paths that reach one mutable object in one copy
 * must reach one object in the other; cycles included; immutable values, whose equal copies
 * cannot be told from one instance, excepted). JDK-internal fields cannot be read on Java 17; their
 * effects are checked by the corpus's probes instead.
 */
public final class ObservableState {

    private final IdentityHashMap<Object, Object> expectedToActual = new IdentityHashMap<>();
    private final IdentityHashMap<Object, Object> actualToExpected = new IdentityHashMap<>();
    private final List<String> differences = new ArrayList<>();

    private ObservableState() {
    }

    /** The differences between {@code expected} and {@code actual}, empty when none. */
    public static List<String> differences(Object expected, Object actual) {
        ObservableState state = new ObservableState();
        state.compare(expected, actual, "value");
        return state.differences;
    }

    private void compare(Object expected, Object actual, String path) {
        if (expected == null || actual == null) {
            if (expected != actual) {
                differ(path, expected, actual);
            }
            return;
        }
        if (expected.getClass() != actual.getClass()) {
            differences.add(path + ": class " + expected.getClass().getName() + " vs " + actual.getClass().getName());
            return;
        }
        Class<?> type = expected.getClass();
        if (isValue(expected)) {
            if (!expected.equals(actual)) {
                differ(path, expected, actual);
            }
            return;
        }
        if (isImmutable(type)) {
            // equal copies of an immutable value cannot be told apart from one shared instance
            compareFields(type, expected, actual, path);
            return;
        }
        Object mappedActual = expectedToActual.get(expected);
        Object mappedExpected = actualToExpected.get(actual);
        if (mappedActual != null || mappedExpected != null) {
            if (mappedActual != actual || mappedExpected != expected) {
                differences.add(path + ": sharing differs (one copy reaches an object seen before, the other not)");
            }
            return;
        }
        expectedToActual.put(expected, actual);
        actualToExpected.put(actual, expected);

        if (type.isArray()) {
            int length = Array.getLength(expected);
            if (length != Array.getLength(actual)) {
                differences.add(path + ": array length " + length + " vs " + Array.getLength(actual));
                return;
            }
            for (int i = 0; i < length; i++) {
                compare(Array.get(expected, i), Array.get(actual, i), path + "[" + i + "]");
            }
            return;
        }
        if (expected instanceof Map<?, ?> map) {
            compareMaps(map, (Map<?, ?>) actual, path);
        } else if (expected instanceof Collection<?> collection) {
            compareCollections(collection, (Collection<?>) actual, path);
        } else if (!type.isRecord() // a record's equals compares array components by identity; fields decide
                && overrides(type, "equals", Object.class) && !safeEquals(expected, actual)) {
            differences.add(path + ": not equal: " + safeToString(expected) + " vs " + safeToString(actual));
        }
        if (type.getModule().isNamed()) {
            if (!(expected instanceof Map) && !(expected instanceof Collection) && overrides(type, "toString")
                    && !safeToString(expected).equals(safeToString(actual))) {
                differ(path, expected, actual);
            }
            return;
        }
        compareFields(type, expected, actual, path);
    }

    private void compareMaps(Map<?, ?> expected, Map<?, ?> actual, String path) {
        List<Object[]> expectedEntries = entries(expected);
        List<Object[]> actualEntries = entries(actual);
        if (expectedEntries == null || actualEntries == null) {
            if ((expectedEntries == null) != (actualEntries == null)) {
                differences.add(path + ": iteration " + (expectedEntries == null ? "fails" : "works")
                        + " on the Java copy only");
            }
            return;
        }
        if (expectedEntries.size() != actualEntries.size()) {
            differences.add(path + ": size " + expectedEntries.size() + " vs " + actualEntries.size());
            return;
        }
        for (int i = 0; i < expectedEntries.size(); i++) {
            compare(expectedEntries.get(i)[0], actualEntries.get(i)[0], path + ".key#" + i);
            compare(expectedEntries.get(i)[1], actualEntries.get(i)[1], path + "[" + expectedEntries.get(i)[0] + "]");
        }
        if (expected instanceof SortedMap<?, ?> sorted) {
            compare(sorted.comparator(), ((SortedMap<?, ?>) actual).comparator(), path + ".comparator()");
        }
    }

    private void compareCollections(Collection<?> expected, Collection<?> actual, String path) {
        List<Object> expectedElements = elements(expected);
        List<Object> actualElements = elements(actual);
        if (expectedElements == null || actualElements == null) {
            if ((expectedElements == null) != (actualElements == null)) {
                differences.add(path + ": iteration " + (expectedElements == null ? "fails" : "works")
                        + " on the Java copy only");
            }
            return;
        }
        if (expectedElements.size() != actualElements.size()) {
            differences.add(path + ": size " + expectedElements.size() + " vs " + actualElements.size());
            return;
        }
        for (int i = 0; i < expectedElements.size(); i++) {
            compare(expectedElements.get(i), actualElements.get(i), path + "[" + i + "]");
        }
        if (expected instanceof SortedSet<?> sorted) {
            compare(sorted.comparator(), ((SortedSet<?>) actual).comparator(), path + ".comparator()");
        }
        if (expected instanceof PriorityQueue<?> queue) {
            compare(queue.comparator(), ((PriorityQueue<?>) actual).comparator(), path + ".comparator()");
        }
    }

    private void compareFields(Class<?> type, Object expected, Object actual, String path) {
        if (type.isHidden()) {
            return; // a lambda: its probe calls it
        }
        for (Class<?> c = type; c != null && !c.getModule().isNamed(); c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers())) {
                    continue;
                }
                try {
                    field.setAccessible(true);
                    compare(field.get(expected), field.get(actual), path + "." + field.getName());
                } catch (ReflectiveOperationException | RuntimeException e) {
                    differences.add(path + "." + field.getName() + ": unreadable: " + e);
                }
            }
        }
    }

    private static List<Object[]> entries(Map<?, ?> map) {
        try {
            List<Object[]> entries = new ArrayList<>();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                entries.add(new Object[] {entry.getKey(), entry.getValue()});
            }
            return entries;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static List<Object> elements(Collection<?> collection) {
        try {
            return new ArrayList<>(collection);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static boolean isValue(Object value) {
        return value instanceof String || value instanceof Number && value.getClass().getModule().isNamed()
                && !value.getClass().getName().startsWith("java.util.concurrent.atomic")
                || value instanceof Boolean || value instanceof Character || value instanceof Enum<?>
                || value instanceof Class<?> || value.getClass().getName().startsWith("java.time.")
                || value instanceof java.util.UUID || value instanceof java.net.URI || value instanceof java.util.Locale
                || value instanceof java.util.Currency || value instanceof java.util.Date;
    }

    /** Final class (record included) whose fields are all final and of immutable types. */
    private static boolean isImmutable(Class<?> type) {
        if (type.isPrimitive() || type.isEnum() || type == String.class) {
            return true;
        }
        if (!java.lang.reflect.Modifier.isFinal(type.getModifiers()) || type.getModule().isNamed()
                || type.getSuperclass() != (type.isRecord() ? Record.class : Object.class)) {
            return isValueType(type);
        }
        for (Field field : type.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (!Modifier.isStatic(modifiers) && (!Modifier.isFinal(modifiers) || field.getType() == type
                    || !isImmutable(field.getType()))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isValueType(Class<?> type) {
        return Number.class.isAssignableFrom(type) && type.getModule().isNamed()
                && !type.getName().startsWith("java.util.concurrent.atomic") || type == Boolean.class
                || type == Character.class || type.getName().startsWith("java.time.") || type == java.util.UUID.class
                || type == java.util.Locale.class || type == java.util.Currency.class;
    }

    private static boolean overrides(Class<?> type, String name, Class<?>... parameters) {
        try {
            return type.getMethod(name, parameters).getDeclaringClass() != Object.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static boolean safeEquals(Object expected, Object actual) {
        try {
            return expected.equals(actual);
        } catch (RuntimeException | StackOverflowError e) {
            return true; // equals of a cyclic structure: the field comparison decides
        }
    }

    private static String safeToString(Object value) {
        try {
            return String.valueOf(value);
        } catch (RuntimeException | StackOverflowError e) {
            return "toString threw " + e.getClass().getName();
        }
    }

    private void differ(String path, Object expected, Object actual) {
        differences.add(path + ": " + safeToString(expected) + " vs " + safeToString(actual));
    }
}
