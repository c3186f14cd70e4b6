package io.tomcatredis.session.codec;

import java.io.Externalizable;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Currency;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * Decides, once per class, whether Kryo may write its instances or whether Java serialization
 * must (inside the same Kryo stream). The rule: Kryo only where it provably keeps everything Java
 * serialization keeps, which is
 * <ul>
 *   <li>enums (written by name), arrays, and records without {@code writeReplace}/{@code readResolve};</li>
 *   <li>the JDK classes listed in {@link #KRYO_JDK_TYPES}, exactly those classes (not their
 *       subclasses), whose Kryo serializers write all of their state;</li>
 *   <li>application classes whose state is nothing but their fields: static or top-level, no
 *       serialization hook ({@code writeObject}, {@code readObject}, {@code readObjectNoData},
 *       {@code writeReplace}, {@code readResolve}, {@code serialPersistentFields},
 *       {@link Externalizable}) anywhere in their hierarchy, no JDK superclass but {@link Object},
 *       no non-serializable superclass (for a Serializable class: Java serialization runs its
 *       constructor), no field shadowing a superclass field of the same name, not a
 *       {@link Collection} or {@link Map} (Kryo would rebuild those through their public
 *       methods, iterating lazy ones);</li>
 * </ul>
 * Everything else (anonymous, local and inner classes with their captured state, subclasses of JDK
 * collections, the {@code Collections.*} wrappers, proxies, lambdas...) goes to Java
 * serialization, as does a class on which Kryo failed ({@link #kryoFailed}). Each class that goes
 * to Java serialization is logged once at INFO (once per class loaded, whatever the number of
 * codecs in the JVM).
 *
 * <p>Thread-safe; one instance per codec, that is per web application.
 */
final class SerializationPolicy {

    private static final Log log = LogFactory.getLog(SerializationPolicy.class);

    /** JDK classes whose Kryo serializers keep all observable state; exact classes only. */
    static final Set<Class<?>> KRYO_JDK_TYPES = Set.copyOf(Arrays.<Class<?>>asList(
            String.class, Boolean.class, Byte.class, Character.class, Short.class, Integer.class, Long.class,
            Float.class, Double.class, BigInteger.class, BigDecimal.class, Class.class, Date.class, Currency.class,
            StringBuilder.class, StringBuffer.class, UUID.class, Locale.class,
            AtomicBoolean.class, AtomicInteger.class, AtomicLong.class,
            Optional.class, OptionalInt.class, OptionalLong.class, OptionalDouble.class,
            Duration.class, Instant.class, LocalDate.class, LocalTime.class, LocalDateTime.class,
            ZonedDateTime.class, OffsetDateTime.class, OffsetTime.class, ZoneOffset.class,
            ZoneId.of("Europe/Paris").getClass(), Year.class, YearMonth.class, MonthDay.class, Period.class,
            ArrayList.class, LinkedList.class, ArrayDeque.class, CopyOnWriteArrayList.class,
            HashMap.class, HashSet.class, LinkedHashSet.class,
            TreeMap.class, TreeSet.class, // with their comparator; all of these through SnapshotSerializers
            Collections.emptyList().getClass(), Collections.emptySet().getClass(), Collections.emptyMap().getClass(),
            Collections.singletonList(1).getClass(), Collections.singleton(1).getClass(),
            Collections.singletonMap(1, 1).getClass(),
            List.of().getClass(), List.of(1).getClass(), List.of(1, 2, 3).getClass(),
            Set.of().getClass(), Set.of(1).getClass(), Set.of(1, 2, 3).getClass(),
            Map.of().getClass(), Map.of(1, 1).getClass(), Map.of(1, 1, 2, 2).getClass()));

    /** A decision and the reason for it (the reason is logged once when Java serialization is chosen). */
    record Decision(boolean kryo, String reason) {
        static final Decision KRYO = new Decision(true, "faithful with Kryo");
    }

    /** Immutable JDK values: nobody can tell a shared instance from two equal ones. */
    private static final Set<Class<?>> IMMUTABLE_JDK_VALUES = Set.of(String.class, Boolean.class, Byte.class,
            Character.class, Short.class, Integer.class, Long.class, Float.class, Double.class, BigInteger.class,
            BigDecimal.class, UUID.class, Locale.class, Currency.class, Class.class, Duration.class, Instant.class,
            LocalDate.class, LocalTime.class, LocalDateTime.class, ZonedDateTime.class, OffsetDateTime.class,
            OffsetTime.class, ZoneOffset.class, ZoneId.of("Europe/Paris").getClass(), Year.class, YearMonth.class,
            MonthDay.class, Period.class);

    /** Whether the fallback of a class was logged: once per class in this JVM, however many nodes or codecs. */
    private static final ClassValue<AtomicBoolean> FALLBACK_LOGGED = new ClassValue<>() {
        @Override
        protected AtomicBoolean computeValue(Class<?> type) {
            return new AtomicBoolean();
        }
    };

    private final ConcurrentHashMap<Class<?>, Decision> decisions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Class<?>, Boolean> immutableValues = new ConcurrentHashMap<>();
    private volatile int generation;

    /** The cached decision for {@code type}, made (and logged) on the first call. */
    Decision decide(Class<?> type) {
        Decision decision = decisions.get(type);
        if (decision != null) {
            return decision;
        }
        return decisions.computeIfAbsent(type, t -> logged(t, safeRule(t)));
    }

    /**
     * Whether instances of {@code type} are immutable values: enums, the immutable JDK values, and
     * final records, and final classes with their own {@code equals}, whose instance fields are all
     * final and of such types, {@code SimpleGrantedAuthority} for example. Two parts of a value written in different formats
     * may share one of these: the copies are equal and cannot change, so nothing observable is lost.
     */
    private static boolean declaresEquals(Class<?> type) {
        try {
            type.getDeclaredMethod("equals", Object.class);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    boolean isImmutableValue(Class<?> type) {
        if (type.isPrimitive() || type.isEnum() || IMMUTABLE_JDK_VALUES.contains(type)
                || Enum.class.isAssignableFrom(type)) {
            return true;
        }
        Boolean known = immutableValues.get(type);
        if (known != null) {
            return known;
        }
        // An array can change; a class without its own equals has an identity a copy would lose.
        boolean immutable = !type.isArray() && Modifier.isFinal(type.getModifiers()) && !type.getModule().isNamed()
                && type.getSuperclass() == (type.isRecord() ? Record.class : Object.class)
                && (type.isRecord() || declaresEquals(type));
        immutableValues.put(type, false); // while its fields are checked: a cycle of types is not a value
        if (immutable) {
            for (Field field : type.getDeclaredFields()) {
                int modifiers = field.getModifiers();
                if (!Modifier.isStatic(modifiers) && (!Modifier.isFinal(modifiers) || field.getType() == type
                        || !isImmutableValue(field.getType()))) {
                    immutable = false;
                    break;
                }
            }
        }
        immutableValues.put(type, immutable);
        return immutable;
    }

    /** Whether {@code type} has been decided already (a fresh Kryo decision is verified once). */
    boolean isDecided(Class<?> type) {
        return decisions.containsKey(type);
    }

    /**
     * Kryo failed on {@code type}: from now on it goes to Java serialization. Increments
     * {@link #generation()}, so that Kryo instances configured before are discarded.
     */
    void kryoFailed(Class<?> type, Throwable cause) {
        Decision previous = decisions.put(type, logged(type, new Decision(false, "Kryo failed on it: " + cause)));
        if (previous == null || previous.kryo()) {
            synchronized (this) {
                generation++;
            }
        }
    }

    /** Changes whenever a decision is revised; a Kryo instance built under another generation is stale. */
    int generation() {
        return generation;
    }

    private static Decision logged(Class<?> type, Decision decision) {
        if (!decision.kryo() && FALLBACK_LOGGED.get(type).compareAndSet(false, true)) {
            log.info("Session attributes: instances of " + type.getName()
                    + " are written with Java serialization inside the Kryo stream (" + decision.reason() + ")");
        }
        return decision;
    }

    private static Decision safeRule(Class<?> type) {
        try {
            return rule(type);
        } catch (LinkageError e) {
            // a method signature names a class that is missing: Java serialization will say so
            return java("its methods cannot be inspected: " + e);
        }
    }

    private static Decision rule(Class<?> type) {
        if (type.isArray() || type.isPrimitive() || Enum.class.isAssignableFrom(type)
                || KRYO_JDK_TYPES.contains(type) || UnmodifiableWrapperSerializer.WRAPPERS.containsKey(type)) {
            return Decision.KRYO;
        }
        if (type.isRecord()) {
            return hook(type) == null ? Decision.KRYO
                    : new Decision(false, "record declaring " + hook(type));
        }
        if (type.getModule().isNamed()) {
            return java("JDK class without a faithful Kryo serializer");
        }
        if (Externalizable.class.isAssignableFrom(type)) {
            return java("Externalizable");
        }
        if (type.isAnonymousClass() || type.isLocalClass() || type.isSynthetic() || type.isHidden()
                || Proxy.isProxyClass(type)) {
            return java("anonymous, local, synthetic or proxy class: captured state and outer instance");
        }
        if (type.isMemberClass() && !Modifier.isStatic(type.getModifiers())) {
            return java("inner class: it references its outer instance");
        }
        if (Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type)) {
            return java("a Collection or Map of its own: Kryo would rebuild it through its public methods");
        }
        // A class that is not Serializable at all (inside a Serializable value) has no Java
        // behaviour to match; Kryo writes its fields, as release 0.1 did.
        boolean serializable = Serializable.class.isAssignableFrom(type);
        Set<String> fieldNames = new HashSet<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            if (c.getModule().isNamed()) {
                return java("extends the JDK class " + c.getName());
            }
            if (serializable && !Serializable.class.isAssignableFrom(c)) {
                return java("extends the non-serializable " + c.getName()
                        + ", whose no-arg constructor Java serialization runs");
            }
            String hook = hook(c);
            if (hook != null) {
                return java(c == type ? "declares " + hook : "inherits " + hook + " from " + c.getName());
            }
            for (Field field : c.getDeclaredFields()) {
                if (!Modifier.isStatic(field.getModifiers()) && !fieldNames.add(field.getName())) {
                    // Kryo's compatible field serializer matches fields by simple name
                    return java("field " + field.getName() + " of " + c.getName() + " is shadowed by a subclass field");
                }
            }
        }
        return Decision.KRYO;
    }

    private static Decision java(String reason) {
        return new Decision(false, reason);
    }

    /** The serialization hook that {@code c} itself declares, or null. */
    private static String hook(Class<?> c) {
        if (declares(c, "writeObject", ObjectOutputStream.class)) {
            return "writeObject";
        }
        if (declares(c, "readObject", ObjectInputStream.class)) {
            return "readObject";
        }
        if (declares(c, "readObjectNoData")) {
            return "readObjectNoData";
        }
        if (declares(c, "writeReplace")) {
            return "writeReplace";
        }
        if (declares(c, "readResolve")) {
            return "readResolve";
        }
        try {
            c.getDeclaredField("serialPersistentFields");
            return "serialPersistentFields";
        } catch (NoSuchFieldException e) {
            return null;
        }
    }

    private static boolean declares(Class<?> type, String name, Class<?>... parameters) {
        try {
            type.getDeclaredMethod(name, parameters);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
