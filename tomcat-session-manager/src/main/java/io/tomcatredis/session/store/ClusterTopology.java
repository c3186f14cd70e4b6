package io.tomcatredis.session.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Redis Cluster: the expiry index is split into one key per slot,
 * {@code <keyPrefix>expirations:{<tag>}} with {@code <tag>} a short hash tag of that slot, so the
 * save and claim scripts touch one slot only; a new session id hashes to another slot, so an id
 * change copies the session (DUMP, RESTORE) and then deletes the original if it is unchanged since
 * (else copies it again). Where RESTORE refuses
 * the payload (a master of an older version during a rolling upgrade: {@code ERR DUMP payload
 * version or checksum are wrong}; an ACL without {@code restore}; a renamed command), the copy is
 * made field by field instead (HGETALL, HSET and the commands of each structure's type, with the
 * same TTLs), and the first refusal is logged as a WARN with Redis' reason.
 */
final class ClusterTopology implements Topology {

    private static final Log LOG = LogFactory.getLog(ClusterTopology.class);
    private static final int SLOTS = 16384;
    /** How often an id change copies a session that is being written under its old id meanwhile. */
    static final int MOVE_ATTEMPTS = 5;

    private final SessionKeys keys;
    private final AtomicBoolean refusalLogged = new AtomicBoolean();

    ClusterTopology(SessionKeys keys) {
        this.keys = keys;
    }

    @Override
    public String expiryIndexKey(String sessionId) {
        return indexKeyOfSlot(JedisClusterCRC16.getSlot(SessionKeys.baseId(sessionId)));
    }

    @Override
    public List<String> expiryIndexKeys() {
        List<String> all = new ArrayList<>(SLOTS);
        for (int slot = 0; slot < SLOTS; slot++) {
            all.add(indexKeyOfSlot(slot));
        }
        return all;
    }

    /**
     * A failure before the copy changes nothing; a failure after it leaves the old copy to its TTL
     * while the new one serves. The copy is one script on the new id's master (import.lua, or
     * copy_import.lua), so the new session appears whole or not at all; the old one is deleted
     * (retire.lua) only once the copy is in place, and only if nothing was written to it since
     * export.lua read it: a write another node made on the old id meanwhile (acknowledged to it)
     * would otherwise be lost, so the session is copied again, up to {@value #MOVE_ATTEMPTS} times.
     * A session invalidated under its old id meanwhile is not resurrected: its copy is deleted.
     *
     * @throws SessionStoreUnavailableException when the old session kept changing through every
     *         attempt (the copy under the new id is deleted; the session stays under its old id)
     */
    @Override
    public boolean changeId(RedisCalls redis, String oldId, String newId) {
        List<byte[]> oldKeys = List.of(keys.sessionKeyBytes(oldId), SessionKeys.utf8(expiryIndexKey(oldId)));
        List<byte[]> newKeys = List.of(keys.sessionKeyBytes(newId), SessionKeys.utf8(expiryIndexKey(newId)));
        List<byte[]> oldMember = List.of(SessionKeys.utf8(SessionKeys.baseId(oldId)));
        for (int attempt = 1; attempt <= MOVE_ATTEMPTS; attempt++) {
            Object exported = redis.script("changeId", SessionScript.EXPORT, oldKeys, oldMember);
            if (!(exported instanceof List<?> parts) || parts.isEmpty()) {
                return false;
            }
            byte[] digest = bytes(parts.get(0));
            List<?> dumps = parts.subList(1, parts.size());
            Object imported = redis.script("changeId", SessionScript.IMPORT, newKeys, importArgs(newId, dumps));
            if (imported instanceof List<?> refusal) {
                logRefusal(refusal.size() > 1 ? text(refusal.get(1)) : String.valueOf(refusal));
                Object copied = redis.script("changeId", SessionScript.COPY_EXPORT, oldKeys, oldMember);
                if (!(copied instanceof List<?> fields) || fields.isEmpty()) {
                    return false;
                }
                redis.script("changeId", SessionScript.COPY_IMPORT, newKeys, copyImportArgs(newId, fields));
            }
            Object retired = redis.script("changeId", SessionScript.RETIRE, oldKeys,
                    List.of(oldMember.get(0), digest));
            if (Long.valueOf(1).equals(retired)) {
                return true;
            }
            if (!Long.valueOf(-1).equals(retired)) {
                // Invalidated or expired under its old id while it was copied: the copy must not live on.
                undo(redis, newKeys, newId);
                return false;
            }
            LOG.debug("Session " + SessionIds.redact(oldId) + " was written during its move to another slot; copying again");
        }
        undo(redis, newKeys, newId);
        throw new SessionStoreUnavailableException("The session kept being written under its old id while its id"
                + " changed (" + MOVE_ATTEMPTS + " attempts); it keeps its old id", null);
    }

    private static void undo(RedisCalls redis, List<byte[]> newKeys, String newId) {
        redis.script("changeId", SessionScript.RETIRE, newKeys,
                List.of(SessionKeys.utf8(SessionKeys.baseId(newId)), new byte[0]));
    }

    /** The new index member, then export.lua's reply as it came: score, pttl, dump, then name, pttl, dump. */
    private static List<byte[]> importArgs(String newId, List<?> exported) {
        List<byte[]> args = new ArrayList<>(exported.size() + 1);
        args.add(SessionKeys.utf8(SessionKeys.baseId(newId)));
        for (Object part : exported) {
            args.add(bytes(part));
        }
        return args;
    }

    /**
     * The new index member, score, pttl, the hash's pair count and pairs, then per structure name,
     * type, pttl, item count and items: copy_export.lua's nested reply flattened for copy_import.lua.
     */
    private static List<byte[]> copyImportArgs(String newId, List<?> exported) {
        List<byte[]> args = new ArrayList<>();
        args.add(SessionKeys.utf8(SessionKeys.baseId(newId)));
        args.add(bytes(exported.get(0)));
        args.add(bytes(exported.get(1)));
        addCounted(args, (List<?>) exported.get(2));
        for (int i = 3; i + 3 < exported.size(); i += 4) {
            args.add(bytes(exported.get(i)));
            args.add(bytes(exported.get(i + 1)));
            args.add(bytes(exported.get(i + 2)));
            addCounted(args, (List<?>) exported.get(i + 3));
        }
        return args;
    }

    private static void addCounted(List<byte[]> args, List<?> items) {
        args.add(SessionKeys.utf8(Integer.toString(items.size())));
        for (Object item : items) {
            args.add(bytes(item));
        }
    }

    private static byte[] bytes(Object part) {
        return part instanceof byte[] raw ? raw : SessionKeys.utf8(String.valueOf(part));
    }

    private static String text(Object part) {
        return part instanceof byte[] raw ? new String(raw, StandardCharsets.UTF_8) : String.valueOf(part);
    }

    private void logRefusal(String reason) {
        if (refusalLogged.compareAndSet(false, true)) {
            LOG.warn("RESTORE refused a session's DUMP payload on an id change across cluster slots (" + reason
                    + "): moving sessions field by field instead (HGETALL, HSET and the structures' own commands)."
                    + " Expected while masters of different versions run during a rolling upgrade; otherwise"
                    + " allow RESTORE to the manager's ACL user. Logged once.");
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("RESTORE refused a session's DUMP payload (" + reason + "): copied field by field");
        }
    }

    private String indexKeyOfSlot(int slot) {
        return keys.expiryIndexPrefix() + ":{" + SlotTags.TAGS[slot] + "}";
    }

    /** For each slot, a short hash tag that lands in it, found once by trying counters. */
    private static final class SlotTags {
        static final String[] TAGS = new String[SLOTS];

        static {
            int found = 0;
            for (int candidate = 0; found < SLOTS; candidate++) {
                String tag = Integer.toString(candidate, 36);
                int slot = JedisClusterCRC16.getSlot(tag);
                if (TAGS[slot] == null) {
                    TAGS[slot] = tag;
                    found++;
                }
            }
        }
    }
}
