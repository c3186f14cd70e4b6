package io.tomcatredis.session;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Set;
import java.util.UUID;

/**
 * JDK value types that cannot be mutated in place, so an attribute holding one needs no
 * re-serialization at the end of a request in which it was only read.
 */
final class ImmutableValues {

    private static final Set<Class<?>> TYPES = Set.of(String.class, Boolean.class, Character.class, Byte.class,
            Short.class, Integer.class, Long.class, Float.class, Double.class, BigInteger.class, BigDecimal.class,
            UUID.class);

    private ImmutableValues() {
    }

    static boolean isImmutable(Object value) {
        Class<?> type = value.getClass();
        return TYPES.contains(type) || type.isEnum() || type.getSuperclass() != null && type.getSuperclass().isEnum()
                || "java.time".equals(type.getPackageName());
    }
}
