package io.tomcatredis.session.store;

import io.tomcatredis.connection.AclCheck;
import io.tomcatredis.connection.AclCheck.Probe;
import java.util.ArrayList;
import java.util.List;

/**
 * What the session manager's Redis user must be allowed (the {@code tomcat-session} user of
 * {@code conf/users.acl}), as {@link AclCheck} probes on keys under the {@code keyPrefix}: every
 * command the store and its scripts send, the data commands of {@code RedisSessions}, and, with a
 * near cache, client-side tracking and its channels (optional: a denial only leaves the near cache
 * unused, as {@code KeyInvalidations} does when its subscription is refused). Connection setup ({@code HELLO},
 * {@code AUTH}, {@code CLIENT SETNAME}, {@code CLUSTER SLOTS}) is not probed: without it nothing
 * connects, and Jedis says so. {@code WAITAOF} is checked by {@link RedisSessionStore#waitAofProblem}.
 */
public final class SessionAcl {

    private SessionAcl() {
    }

    /**
     * @param component for messages, e.g. {@code RedisSessionManager of /shop}
     * @param user the Redis user of the manager's connection, or null for {@code default}
     * @param nearCache whether {@code nearCacheStalenessMillis} is on (tracking, its channels)
     */
    public static AclCheck check(String component, String user, SessionKeys keys, boolean nearCache) {
        String session = keys.sessionKey("acl-check");
        String other = keys.dataKey("acl-check", "probe");
        List<Probe> probes = new ArrayList<>(List.of(
                // The scripts, by SHA-1 or in full; SCRIPT LOAD preloads them.
                Probe.of("evalsha", "0000000000000000000000000000000000000000", "1", session),
                Probe.of("eval", "return 0", "1", session),
                Probe.of("script", "load", "return 0"),
                Probe.of("time"),
                Probe.of("ping"),
                // The session hash and its claim.
                Probe.of("hset", session, "f", "v"),
                Probe.of("hsetnx", session, "f", "v"),
                Probe.of("hget", session, "f"),
                Probe.of("hmget", session, "f"),
                Probe.of("hgetall", session),
                Probe.of("hdel", session, "f"),
                Probe.of("hincrby", session, "f", "1"),
                // Any key of the session: lifetime, type checks, id changes (RENAME, or DUMP and
                // RESTORE across Redis Cluster slots).
                Probe.of("exists", session),
                Probe.of("type", session),
                Probe.of("del", session),
                Probe.of("rename", session, other),
                Probe.of("dump", session),
                Probe.of("restore", other, "0", "payload"),
                Probe.of("pexpire", session, "1"),
                Probe.of("expire", session, "1"),
                Probe.of("pttl", session),
                Probe.of("ttl", session),
                Probe.of("memory", "usage", session),
                // The expiry and principal indexes.
                Probe.of("zadd", session, "1", "m"),
                Probe.of("zrem", session, "m"),
                Probe.of("zscore", session, "m"),
                Probe.of("zcount", session, "0", "1"),
                Probe.of("zcard", session),
                Probe.of("zrange", session, "0", "1"),
                Probe.of("zrangebyscore", session, "0", "1"),
                // Session-scoped structures (RedisSessions) and their field-by-field copy.
                Probe.of("get", other),
                Probe.of("set", other, "v"),
                Probe.of("sadd", other, "m"),
                Probe.of("srem", other, "m"),
                Probe.of("smembers", other),
                Probe.of("sismember", other, "m"),
                Probe.of("rpush", other, "v"),
                Probe.of("lrange", other, "0", "1"),
                // waitReplicas.
                Probe.of("wait", "0", "0")));
        if (nearCache) {
            String heartbeat = keys.prefix() + "heartbeat:acl-check";
            for (Probe probe : List.of(
                    Probe.of("role"),
                    Probe.of("client", "id"),
                    Probe.of("client", "tracking", "on", "redirect", "1", "bcast", "prefix", keys.prefix()),
                    Probe.of("subscribe", "__redis__:invalidate", heartbeat),
                    Probe.of("publish", heartbeat, "1"))) {
                // Without them the near cache answers nothing: every request reads Redis, as with 0.
                probes.add(probe.forFeature("nearCacheStalenessMillis"));
            }
        }
        return new AclCheck(component, user, keys.prefix(), session, probes);
    }
}
