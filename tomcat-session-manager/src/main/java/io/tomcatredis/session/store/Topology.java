package io.tomcatredis.session.store;

import java.util.List;

/**
 * What differs between a Redis that keeps every key in one keyspace (standalone, Sentinel) and a
 * Redis Cluster, where a script may only touch keys of one slot: where a session's expiry index
 * entry lives, and how a session moves to a new id. Chosen once when the manager starts.
 */
public interface Topology {

    /** For standalone Redis and Sentinel: one expiry index, ids moved by an atomic RENAME. */
    static Topology singleSlot(SessionKeys keys) {
        return new SingleSlotTopology(keys);
    }

    /** For Redis Cluster: one expiry index per slot, ids moved by copy and delete. */
    static Topology cluster(SessionKeys keys) {
        return new ClusterTopology(keys);
    }

    /** The expiry index key that holds {@code sessionId}'s deadline. */
    String expiryIndexKey(String sessionId);

    /** Every expiry index key: one, or one per Redis Cluster slot. */
    List<String> expiryIndexKeys();

    /**
     * Moves a session with its structures and deadline to {@code newId}; the old id stops working.
     *
     * @return false when the old session no longer exists
     * @throws SessionStoreUnavailableException when Redis fails
     */
    boolean changeId(RedisCalls redis, String oldId, String newId);
}
