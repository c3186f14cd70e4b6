package io.tomcatredis.session.store;

import java.util.List;

/** Standalone Redis and Sentinel: every key in one keyspace, so one script sees them all. */
final class SingleSlotTopology implements Topology {

    private final SessionKeys keys;

    SingleSlotTopology(SessionKeys keys) {
        this.keys = keys;
    }

    @Override
    public String expiryIndexKey(String sessionId) {
        return keys.expiryIndexPrefix();
    }

    @Override
    public List<String> expiryIndexKeys() {
        return List.of(keys.expiryIndexPrefix());
    }

    @Override
    public boolean changeId(RedisCalls redis, String oldId, String newId) {
        Object moved = redis.script("changeId", SessionScript.RENAME,
                List.of(keys.sessionKeyBytes(oldId), keys.sessionKeyBytes(newId), SessionKeys.utf8(expiryIndexKey(oldId))),
                List.of(SessionKeys.utf8(SessionKeys.baseId(oldId)), SessionKeys.utf8(SessionKeys.baseId(newId))));
        return Long.valueOf(1).equals(moved);
    }
}
