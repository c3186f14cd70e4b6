package io.tomcatredis.session.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The fields of a session hash, and the one place that maps them to and from Java. This format
 * is public API; tools may read it. The Lua scripts next to this class name the same fields.
 *
 * <pre>
 *   meta:creationTime           creation time, epoch milliseconds, decimal
 *   meta:lastAccessedTime       end of the last request that used the session, epoch ms by Redis'
 *                               clock (TIME), decimal; never moves back; a request that changed
 *                               nothing leaves it alone while it is less than meta:touchInterval old
 *   meta:touchInterval          ms, decimal: how far meta:lastAccessedTime may lag behind the last
 *                               request (the smaller of the manager's touchInterval and a tenth of
 *                               the session's interval, or what remains of the stored value's window
 *                               past the new access time, counted up to the keys' grace, when that is
 *                               longer: a node that skipped a write relied on it; written by every
 *                               save; missing: 0)
 *   meta:maxInactiveInterval    seconds, decimal; 0 or negative: never expires
 *   meta:principal              the authenticated principal, serialized (only when set)
 *   meta:principalName          the user the session belongs to, UTF-8: the principal's
 *                               {@code getName()}, or without a principal the String value of the
 *                               attribute {@code io.tomcatredis.session.principalName}; written when
 *                               it changes, deleted at sign-out: what the principal index
 *                               ({@link PrincipalIndex}) checks its members against
 *   meta:authType               the authentication type, UTF-8 (only when set)
 *   meta:activationListeners    names of attributes that are HttpSessionActivationListeners, one per line
 *   meta:dataKeys               names of the session-scoped structures, one per line
 *   meta:dataVersion            incremented by every write to a session-scoped structure (data_write.lua),
 *                               absent until the first: with meta:version, what an id change across
 *                               Cluster slots checks before it deletes the old id (retire.lua)
 *   meta:version                incremented by every save; a node's copy is current when it matches;
 *                               a corrupt value restarts at Redis' clock (ms)
 *   meta:id                     the id as clients know it (with the route of the node that created the
 *                               session or changed its id), for listings such as the Manager webapp's
 *   meta:sealId                 the session id (without route) before its first id change; written by
 *                               the id change (rename.lua, export.lua), absent until then. Encrypted
 *                               values are bound to it (or to the id when absent), so an id change moves
 *                               them without re-encryption
 *   attr:&lt;name&gt;                 one attribute, serialized by the configured serializer (compressed,
 *                               encrypted: see the codec package)
 * </pre>
 * Attribute fields carry the {@code attr:} prefix and metadata fields the {@code meta:} prefix, so
 * no attribute name can ever collide with metadata. A field this version does not know is ignored
 * and kept.
 *
 * <p>The deadline of a session, in the expiry index, is {@code meta:lastAccessedTime +
 * meta:maxInactiveInterval * 1000 + meta:touchInterval}, so that no session expires before its last
 * request plus its interval, computed by the save script from the hash as it stands after
 * the write; a session that never expires is indexed at the end of its key's TTL instead (the
 * claim script moves the entry on while the hash exists). A save of an existing hash is accepted
 * even past its deadline (only a request that loaded the session live can make one); a session
 * that was invalidated or claimed by the expiry sweep (its hash moved away) is never revived.
 * {@code meta:version} is validated before any write: a value that is not a non-negative integer
 * restarts at Redis' clock in milliseconds (never a version that a node's copy holds).
 */
public final class SessionHashFormat {

    public static final String ATTRIBUTE_PREFIX = "attr:";
    public static final String CREATION_TIME = "meta:creationTime";
    public static final String LAST_ACCESSED_TIME = "meta:lastAccessedTime";
    public static final String MAX_INACTIVE_INTERVAL = "meta:maxInactiveInterval";
    public static final String PRINCIPAL = "meta:principal";
    public static final String PRINCIPAL_NAME = "meta:principalName";
    public static final String AUTH_TYPE = "meta:authType";
    public static final String ACTIVATION_LISTENERS = "meta:activationListeners";
    public static final String DATA_KEYS = "meta:dataKeys";
    public static final String DATA_VERSION = "meta:dataVersion";
    public static final String VERSION = "meta:version";
    public static final String ID = "meta:id";
    public static final String TOUCH_INTERVAL = "meta:touchInterval";
    public static final String SEAL_ID = "meta:sealId";
    /** The largest {@code meta:touchInterval} a deadline counts (ms): a corrupt value costs at most this. */
    public static final long MAX_TOUCH_INTERVAL_MILLIS = 3_600_000;

    private SessionHashFormat() {
    }

    /** The field of attribute {@code name}. */
    public static String attributeField(String name) {
        return ATTRIBUTE_PREFIX + name;
    }

    /**
     * Reads a hash as HGETALL returns it.
     *
     * @return the session, or null when the hash lacks a valid {@code meta:creationTime}
     */
    public static StoredSession read(Map<byte[], byte[]> hash) {
        Map<String, byte[]> attributes = new HashMap<>();
        long creationTime = 0;
        long lastAccessedTime = 0;
        int maxInactiveInterval = 0;
        long version = 0;
        long touchInterval = 0;
        byte[] principal = null;
        String authType = null;
        Set<String> activationListeners = Set.of();
        Set<String> dataKeys = Set.of();
        long size = 0;
        String id = null;
        String principalName = null;
        String sealId = null;
        for (Map.Entry<byte[], byte[]> entry : hash.entrySet()) {
            String field = new String(entry.getKey(), StandardCharsets.UTF_8);
            byte[] value = entry.getValue();
            size += entry.getKey().length + value.length;
            if (field.startsWith(ATTRIBUTE_PREFIX)) {
                attributes.put(field.substring(ATTRIBUTE_PREFIX.length()), value);
                continue;
            }
            switch (field) {
                case CREATION_TIME -> creationTime = number(value);
                case LAST_ACCESSED_TIME -> lastAccessedTime = number(value);
                case MAX_INACTIVE_INTERVAL -> maxInactiveInterval = (int) Math.max(Integer.MIN_VALUE,
                        Math.min(Integer.MAX_VALUE, number(value)));
                case VERSION -> version = number(value);
                case TOUCH_INTERVAL -> touchInterval = Math.max(0, Math.min(MAX_TOUCH_INTERVAL_MILLIS, number(value)));
                case ID -> id = new String(value, StandardCharsets.UTF_8);
                case SEAL_ID -> sealId = new String(value, StandardCharsets.UTF_8);
                case PRINCIPAL -> principal = value;
                case PRINCIPAL_NAME -> principalName = new String(value, StandardCharsets.UTF_8);
                case AUTH_TYPE -> authType = new String(value, StandardCharsets.UTF_8);
                case ACTIVATION_LISTENERS -> activationListeners = lines(value);
                case DATA_KEYS -> dataKeys = lines(value);
                default -> {
                    // A field from a newer version of this layout: ignored, kept in Redis.
                }
            }
        }
        if (creationTime <= 0) {
            return null;
        }
        return new StoredSession(id, creationTime, lastAccessedTime, maxInactiveInterval, touchInterval, version,
                principal, authType,
                attributes, activationListeners, dataKeys, size, principalName, sealId);
    }

    /** Reads a hash as a flat list of fields and values, as scripts return HGETALL. */
    public static StoredSession read(List<byte[]> flat, int from) {
        Map<byte[], byte[]> hash = new HashMap<>();
        for (int i = from; i + 1 < flat.size(); i += 2) {
            hash.put(flat.get(i), flat.get(i + 1));
        }
        return read(hash);
    }

    /**
     * The HSET pairs and HDEL fields of a save. {@code meta:lastAccessedTime}, {@code meta:version}
     * and the deadline are the save script's.
     */
    static Write write(SessionChanges changes) {
        List<byte[]> pairs = new ArrayList<>();
        List<byte[]> deletions = new ArrayList<>();
        if (changes.created()) {
            pair(pairs, CREATION_TIME, decimal(changes.creationTime()));
        }
        if (changes.id() != null) {
            pair(pairs, ID, changes.id().getBytes(StandardCharsets.UTF_8));
        }
        changes.maxInactiveInterval().ifPresent(seconds -> pair(pairs, MAX_INACTIVE_INTERVAL, decimal(seconds)));
        if (changes.authenticationWritten()) {
            pairOrDelete(pairs, deletions, PRINCIPAL, changes.principal());
            pairOrDelete(pairs, deletions, AUTH_TYPE,
                    changes.authType() == null ? null : changes.authType().getBytes(StandardCharsets.UTF_8));
        }
        if (changes.principalNameWritten()) {
            pairOrDelete(pairs, deletions, PRINCIPAL_NAME,
                    changes.principalName() == null ? null : utf8(changes.principalName()));
        }
        changes.activationListeners().ifPresent(names -> pairOrDelete(pairs, deletions, ACTIVATION_LISTENERS,
                lines(names)));
        changes.attributes().forEach((name, bytes) -> pair(pairs, attributeField(name), bytes));
        changes.removedAttributes().forEach(name -> deletions.add(utf8(attributeField(name))));
        return new Write(pairs, deletions);
    }

    /** Field/value pairs to HSET (alternating) and fields to HDEL. */
    record Write(List<byte[]> pairs, List<byte[]> deletions) {
    }

    private static void pair(List<byte[]> pairs, String field, byte[] value) {
        pairs.add(utf8(field));
        pairs.add(value);
    }

    private static void pairOrDelete(List<byte[]> pairs, List<byte[]> deletions, String field, byte[] value) {
        if (value == null) {
            deletions.add(utf8(field));
        } else {
            pair(pairs, field, value);
        }
    }

    /** Names one per line, sorted; null for none (the field is then deleted). */
    static byte[] lines(Collection<String> names) {
        return names.isEmpty() ? null : String.join("\n", new TreeSet<>(names)).getBytes(StandardCharsets.UTF_8);
    }

    static Set<String> lines(byte[] value) {
        Set<String> names = new LinkedHashSet<>();
        for (String name : new String(value, StandardCharsets.UTF_8).split("\n")) {
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        return names;
    }

    static byte[] decimal(long value) {
        return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
    }

    /** A decimal field's value; 0 when it is not a decimal number. */
    static long number(byte[] value) {
        try {
            return Long.parseLong(new String(value, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
