package io.tomcatredis.session.store;

import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Redis Cluster: the expiry index is split into one key per slot,
 * {@code <keyPrefix>expirations:{<tag>}} with {@code <tag>} a short hash tag of that slot, so the
 * save and claim scripts touch one slot only; a new session id hashes to another slot, so an id
 * change copies the session (DUMP, RESTORE) and then deletes the original.
 */
final class ClusterTopology implements Topology {

    private static final int SLOTS = 16384;

    private final SessionKeys keys;

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
     * while the new one serves.
     */
    @Override
    @SuppressWarnings("unchecked")
    public boolean changeId(RedisCalls redis, String oldId, String newId) {
        Object exported = redis.script("changeId", SessionScript.EXPORT,
                List.of(keys.sessionKeyBytes(oldId), SessionKeys.utf8(expiryIndexKey(oldId))),
                List.of(SessionKeys.utf8(SessionKeys.baseId(oldId))));
        if (!(exported instanceof List<?> parts) || parts.isEmpty()) {
            return false;
        }
        List<byte[]> args = new ArrayList<>();
        args.add(SessionKeys.utf8(SessionKeys.baseId(newId)));
        for (Object part : (List<Object>) parts) {
            args.add(part instanceof byte[] bytes ? bytes : SessionKeys.utf8(String.valueOf(part)));
        }
        redis.script("changeId", SessionScript.IMPORT,
                List.of(keys.sessionKeyBytes(newId), SessionKeys.utf8(expiryIndexKey(newId))), args);
        redis.script("changeId", SessionScript.CLAIM, List.of(keys.sessionKeyBytes(oldId),
                SessionKeys.utf8(expiryIndexKey(oldId)), keys.claimKeyBytes(oldId)),
                List.of(SessionKeys.utf8(SessionKeys.baseId(oldId)), SessionKeys.utf8("move:" + newId),
                        SessionKeys.utf8("0")));
        redis.call("changeId", jedis -> jedis.del(keys.claimKeyBytes(oldId)));
        return true;
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
