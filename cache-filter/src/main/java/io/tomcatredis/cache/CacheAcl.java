package io.tomcatredis.cache;

import io.tomcatredis.connection.AclCheck;
import io.tomcatredis.connection.AclCheck.Probe;
import java.util.ArrayList;
import java.util.List;

/**
 * What the cache filter's Redis user must be allowed (the {@code tomcat-cache} user of
 * {@code conf/users.acl}), as {@link AclCheck} probes on keys of its layout ({@link CacheKeys}):
 * every command of its scripts and of {@link CacheStore}, and, with a local tier, its invalidation
 * channel (optional: a denial only keeps the local tier off). Connection setup ({@code HELLO}, {@code AUTH}, {@code CLIENT SETNAME},
 * {@code CLUSTER SLOTS}) is not probed: without it nothing connects.
 */
final class CacheAcl {

    private CacheAcl() {
    }

    /**
     * @param component for messages, e.g. {@code RedisCacheFilter page-cache of /shop}
     * @param user the Redis user of the filter's connection, or null for {@code default}
     * @param localTier whether {@code localTierBytes} is on (the invalidation channel)
     */
    static AclCheck check(String component, String user, String keyPrefix, CacheKeys keys, boolean localTier) {
        String entry = keys.entry("acl-check");
        String other = keys.lease("acl-check");
        List<Probe> probes = new ArrayList<>(List.of(
                Probe.of("evalsha", "0000000000000000000000000000000000000000", "1", entry),
                Probe.of("eval", "return 0", "1", entry),
                Probe.of("time"),
                Probe.of("ping"),
                // Entries, sizes: hashes.
                Probe.of("hset", entry, "f", "v"),
                Probe.of("hget", entry, "f"),
                Probe.of("hgetall", entry),
                Probe.of("hdel", entry, "f"),
                Probe.of("hexists", entry, "f"),
                Probe.of("hkeys", entry),
                Probe.of("hlen", entry),
                // Leases, marks, the byte count: strings.
                Probe.of("get", other),
                Probe.of("set", other, "v"),
                Probe.of("incrby", other, "1"),
                Probe.of("decrby", other, "1"),
                // Any key: lifetime, type checks, size.
                Probe.of("del", entry),
                Probe.of("exists", entry),
                Probe.of("type", entry),
                Probe.of("pexpire", entry, "1"),
                Probe.of("pttl", entry),
                Probe.of("memory", "usage", entry),
                // Variants and tags: sets; the LRU index: a sorted set.
                Probe.of("sadd", other, "m"),
                Probe.of("srem", other, "m"),
                Probe.of("smembers", other),
                Probe.of("zadd", other, "1", "m"),
                Probe.of("zrem", other, "m"),
                Probe.of("zrange", other, "0", "1")));
        if (localTier) {
            for (Probe probe : List.of(
                    Probe.of("subscribe", keys.invalidations()),
                    Probe.of("unsubscribe", keys.invalidations()),
                    Probe.of("publish", keys.invalidations(), "m"))) {
                // Without them the local tier stays off and pages come from Redis (InvalidationSubscriber).
                probes.add(probe.forFeature("localTierBytes"));
            }
        }
        return new AclCheck(component, user, keyPrefix, entry, probes);
    }
}
