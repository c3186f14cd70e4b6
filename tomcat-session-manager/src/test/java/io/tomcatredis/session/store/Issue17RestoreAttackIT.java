package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisNode;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.RedisServer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.resps.Tuple;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Attack on issue 17's RESTORE fallback (copy_export.lua, copy_import.lua) on the mixed cluster of
 * {@link ClusterRestoreFallbackIT} (Valkey 8 master, Redis 7.0 master): values at the edges of what
 * each type holds, structures without a TTL, large structures of every type, a stream (the
 * documented failure), and the target master paused mid-move.
 */
class Issue17RestoreAttackIT {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.of(() -> ClusterRedis.start(2, 0,
            RedisOptions.DEFAULTS.withServer(RedisServer.REDIS).withServerOnNode("shard-1-master", RedisServer.VALKEY)));

    private static final String PREFIX = "tomcat-session:localhost/app:";

    private UnifiedJedis jedis;
    private RedisSessionStore store;

    @BeforeEach
    void connect() {
        REDIS.get().flushAll();
        jedis = RedisClusterClient.builder().nodes(REDIS.get().hostAndPorts()).clientConfig(REDIS.get().clientConfig())
                .build();
        store = storeOf(jedis, 2000);
    }

    @AfterEach
    void close() {
        jedis.close();
    }

    /** Scores at the edges of a double, empty and binary values, a structure whose TTL was removed. */
    @Test
    void edgeValuesAndAStructureWithoutTtlMoveExactly() {
        String oldId = idOn(server -> server.startsWith("valkey 8"), 0);
        String newId = idOn(server -> server.startsWith("redis 7.0"), 0);
        store.save(oldId, SessionChanges.created(1_000, 600).id(oldId).setAttribute("empty", new byte[0]));
        store.writeData(oldId, "scores", "ZADD", List.of("inf", "top", "-inf", "bottom", "0.1", "tenth",
                "1e-300", "tiny", "123456789.123456789", "big", "-0", "zero"));
        store.writeData(oldId, "empties", "RPUSH", List.of("", "x", ""));
        store.writeData(oldId, "prefs", "HSET", List.of("", "empty-name", "v", ""));
        store.writeData(oldId, "forever", "SADD", List.of("a"));
        byte[] binaryKey = bytes(key(oldId) + ":data:bin");
        store.writeData(oldId, "bin", "SET", List.of("placeholder"));
        jedis.set(binaryKey, new byte[] {0, (byte) 0x80, (byte) 0xff, 0});
        jedis.persist(key(oldId) + ":data:forever");
        List<Tuple> scores = jedis.zrangeWithScores(key(oldId) + ":data:scores", 0, -1);
        Map<String, String> prefs = jedis.hgetAll(key(oldId) + ":data:prefs");

        assertThat(store.changeId(oldId, newId)).isTrue();

        assertThat(jedis.zrangeWithScores(key(newId) + ":data:scores", 0, -1)).isEqualTo(scores);
        assertThat(jedis.lrange(key(newId) + ":data:empties", 0, -1)).containsExactly("", "x", "");
        assertThat(jedis.hgetAll(key(newId) + ":data:prefs")).isEqualTo(prefs).containsEntry("", "empty-name");
        assertThat(jedis.get(bytes(key(newId) + ":data:bin"))).containsExactly(0, (byte) 0x80, (byte) 0xff, 0);
        assertThat(jedis.hget(bytes(key(newId)), bytes("attr:empty"))).isEmpty();
        assertThat(jedis.pttl(key(newId) + ":data:forever")).as("no TTL before, none after (as RESTORE)").isEqualTo(-1);
        assertThat(jedis.exists(key(oldId))).isFalse();
    }

    /** A session that never expires (maxInactiveInterval -1) keeps its TTL and index deadline as they were. */
    @Test
    void aSessionThatNeverExpiresMovesWithItsTtlAndDeadline() {
        String oldId = idOn(server -> server.startsWith("valkey 8"), 4);
        String newId = idOn(server -> server.startsWith("redis 7.0"), 4);
        store.save(oldId, SessionChanges.created(1_000, -1).id(oldId).setAttribute("a", bytes("1")));
        store.writeData(oldId, "cart", "RPUSH", List.of("x"));
        long ttl = jedis.pttl(key(oldId));
        long cartTtl = jedis.pttl(key(oldId) + ":data:cart");
        Double score = jedis.zscore(store.topology().expiryIndexKey(oldId), oldId);

        assertThat(store.changeId(oldId, newId)).isTrue();

        assertThat(jedis.zscore(store.topology().expiryIndexKey(newId), newId)).as("deadline").isEqualTo(score);
        long newTtl = jedis.pttl(key(newId));
        assertThat(newTtl > 0).as("hash TTL (was " + ttl + ", now " + newTtl + ")").isEqualTo(ttl > 0);
        assertThat(newTtl).as("no longer than before").isLessThanOrEqualTo(ttl > 0 ? ttl : -1);
        long newCartTtl = jedis.pttl(key(newId) + ":data:cart");
        assertThat(newCartTtl < 0).as("structure TTL (was " + cartTtl + ", now " + newCartTtl + ")").isEqualTo(cartTtl < 0);
        assertThat(store.load(newId, 0)).isInstanceOf(LoadResult.Loaded.class);
        assertThat(jedis.exists(key(oldId))).isFalse();
    }

    /** Every type, each larger than one unpack() chunk and than Lua's C stack (LUAI_MAXCSTACK 8000). */
    @Test
    void largeStructuresOfEveryTypeMoveWhole() {
        String oldId = idOn(server -> server.startsWith("valkey 8"), 1);
        String newId = idOn(server -> server.startsWith("redis 7.0"), 1);
        store.save(oldId, SessionChanges.created(1_000, 600).id(oldId).setAttribute("a", bytes("1")));
        int n = 12_000;
        List<String> members = IntStream.range(0, n).mapToObj(i -> "m" + i).toList();
        List<String> pairs = IntStream.range(0, n).boxed().flatMap(i -> java.util.stream.Stream.of("f" + i, "v" + i)).toList();
        List<String> zpairs = IntStream.range(0, n).boxed().flatMap(i -> java.util.stream.Stream.of(Integer.toString(i), "z" + i)).toList();
        for (int from = 0; from < n; from += 1000) {
            store.writeData(oldId, "list", "RPUSH", members.subList(from, from + 1000));
            store.writeData(oldId, "set", "SADD", members.subList(from, from + 1000));
            store.writeData(oldId, "hash", "HSET", pairs.subList(2 * from, 2 * from + 2000));
            store.writeData(oldId, "zset", "ZADD", zpairs.subList(2 * from, 2 * from + 2000));
        }
        for (int i = 0; i < n; i++) {
            jedis.hset(key(oldId), "attr:x" + i, "v" + i);
        }
        Map<String, String> hash = jedis.hgetAll(key(oldId));

        assertThat(store.changeId(oldId, newId)).isTrue();

        assertThat(jedis.lrange(key(newId) + ":data:list", 0, -1)).isEqualTo(members);
        assertThat(jedis.scard(key(newId) + ":data:set")).isEqualTo(n);
        assertThat(jedis.hlen(key(newId) + ":data:hash")).isEqualTo(n);
        assertThat(jedis.zcard(key(newId) + ":data:zset")).isEqualTo(n);
        assertThat(jedis.zscore(key(newId) + ":data:zset", "z11999")).isEqualTo(11999.0);
        Map<String, String> expected = new HashMap<>(hash);
        expected.putIfAbsent("meta:sealId", oldId);
        assertThat(jedis.hgetAll(key(newId))).isEqualTo(expected);
        assertThat(jedis.exists(key(oldId))).isFalse();
    }

    /** A stream cannot be copied field by field: a clear error, the session kept whole under its old id, no new one. */
    @Test
    void aStreamStructureFailsClearlyAndTheSessionStaysUnderItsOldId() {
        String oldId = idOn(server -> server.startsWith("valkey 8"), 2);
        String newId = idOn(server -> server.startsWith("redis 7.0"), 2);
        store.save(oldId, SessionChanges.created(1_000, 600).id(oldId).setAttribute("color", bytes("blue")));
        store.writeData(oldId, "cart", "RPUSH", List.of("a"));
        store.writeData(oldId, "events", "SET", List.of("placeholder"));
        jedis.del(key(oldId) + ":data:events");
        jedis.xadd(key(oldId) + ":data:events", StreamEntryID.NEW_ENTRY, Map.of("e", "1"));
        jedis.pexpire(key(oldId) + ":data:events", 600_000);

        assertThatThrownBy(() -> store.changeId(oldId, newId)).hasMessageContaining("events")
                .hasMessageContaining("stream");

        assertThat(jedis.hget(key(oldId), "attr:color")).isNotNull();
        assertThat(jedis.exists(key(oldId) + ":data:cart")).isTrue();
        assertThat(jedis.exists(key(oldId) + ":data:events")).isTrue();
        assertThat(jedis.zscore(store.topology().expiryIndexKey(oldId), oldId)).as("old index entry").isNotNull();
        assertThat(store.load(oldId, 0)).isInstanceOf(LoadResult.Loaded.class);
        assertThat(jedis.exists(key(newId))).as("no half session").isFalse();
        assertThat(jedis.exists(key(newId) + ":data:cart")).isFalse();
        assertThat(jedis.zscore(store.topology().expiryIndexKey(newId), newId)).isNull();
    }

    /**
     * The new id's master paused (CLIENT PAUSE WRITE) past the store's timeout during the move: the
     * move fails; once the master is back, there must not be two sessions (the old id and a new copy
     * nobody was told of).
     */
    @Test
    void targetMasterPausedDuringTheMoveLeavesOneSession() {
        String oldId = idOn(server -> server.startsWith("redis 7.0"), 3);
        String newId = idOn(server -> server.startsWith("valkey 8"), 3);
        UnifiedJedis quickClient = RedisClusterClient.builder().nodes(REDIS.get().hostAndPorts())
                .clientConfig(redis.clients.jedis.DefaultJedisClientConfig.builder().socketTimeoutMillis(300).build())
                .maxAttempts(1).build();
        RedisSessionStore quick = storeOf(quickClient, 300);
        store.save(oldId, SessionChanges.created(1_000, 600).id(oldId).setAttribute("color", bytes("blue")));
        store.writeData(oldId, "cart", "RPUSH", List.of("a"));
        RedisNode target = REDIS.get().masterForSlot(JedisClusterCRC16.getSlot(newId));
        boolean moved;
        try (Jedis admin = target.client()) {
            admin.clientPause(5_000, redis.clients.jedis.args.ClientPauseMode.WRITE);
            try {
                moved = quick.changeId(oldId, newId);
            } catch (RuntimeException e) {
                moved = false;
            } finally {
                admin.clientUnpause();
                quickClient.close();
            }
        }
        // A write on the target after the unpause is served after anything queued before it.
        try (Jedis admin = target.client()) {
            admin.set("{" + newId + "}probe", "1");
        }
        boolean oldAlive = jedis.exists(key(oldId));
        boolean newAlive = jedis.exists(key(newId));
        assertThat(oldAlive != newAlive).as("exactly one of old (" + oldAlive + ") and new (" + newAlive
                + ") after a move that reported " + moved).isTrue();
    }

    /**
     * A structure write to the old id (another node still serving a request of the old id) that
     * Redis acknowledged while the move was under way: the target master is paused while the
     * copy is on its way to it, the write lands on the old session in that window, then the
     * move completes and claims (deletes) the old session. The acknowledged write must be in the
     * moved session (or the move must fail and leave the old one).
     */
    @Test
    void anAcknowledgedWriteToTheOldIdDuringTheMoveIsNotLost() throws Exception {
        String oldId = idOn(server -> server.startsWith("redis 7.0"), 5);
        String newId = idOn(server -> server.startsWith("valkey 8"), 5);
        store.save(oldId, SessionChanges.created(1_000, 600).id(oldId));
        store.writeData(oldId, "cart", "RPUSH", List.of("before"));
        RedisNode target = REDIS.get().masterForSlot(JedisClusterCRC16.getSlot(newId));
        java.util.concurrent.CompletableFuture<Boolean> move;
        try (Jedis admin = target.client()) {
            admin.clientPause(10_000, redis.clients.jedis.args.ClientPauseMode.WRITE);
            try {
                move = java.util.concurrent.CompletableFuture.supplyAsync(() -> store.changeId(oldId, newId));
                // the copy reached the target and waits there: a client blocked by the pause (flag b)
                while (admin.clientList().lines().noneMatch(line -> line.contains(" flags=b ")) && !move.isDone()) {
                    Thread.onSpinWait();
                }
                store.writeData(oldId, "cart", "RPUSH", List.of("during"));
            } finally {
                admin.clientUnpause();
            }
        }
        boolean moved = move.get(30, java.util.concurrent.TimeUnit.SECONDS);
        String survivor = moved ? newId : oldId;
        assertThat(jedis.lrange(key(survivor) + ":data:cart", 0, -1)).as("cart of " + (moved ? "the new id" : "the old id"))
                .containsExactly("before", "during");
    }

    /**
     * The session invalidated under its old id (another node signs the user out) while the move's
     * copy waits on the paused target master: the move must not bring it back under the new id.
     */
    @Test
    void aSessionInvalidatedUnderItsOldIdDuringTheMoveIsNotResurrected() throws Exception {
        String oldId = idOn(server -> server.startsWith("redis 7.0"), 6);
        String newId = idOn(server -> server.startsWith("valkey 8"), 6);
        store.save(oldId, SessionChanges.created(1_000, 600).id(oldId).setAttribute("role", bytes("admin")));
        store.writeData(oldId, "cart", "RPUSH", List.of("before"));
        RedisNode target = REDIS.get().masterForSlot(JedisClusterCRC16.getSlot(newId));
        java.util.concurrent.CompletableFuture<Boolean> move;
        try (Jedis admin = target.client()) {
            admin.clientPause(10_000, redis.clients.jedis.args.ClientPauseMode.WRITE);
            try {
                move = java.util.concurrent.CompletableFuture.supplyAsync(() -> store.changeId(oldId, newId));
                while (admin.clientList().lines().noneMatch(line -> line.contains(" flags=b ")) && !move.isDone()) {
                    Thread.onSpinWait();
                }
                assertThat(store.invalidate(oldId)).isTrue();
            } finally {
                admin.clientUnpause();
            }
        }
        assertThat(move.get(30, java.util.concurrent.TimeUnit.SECONDS)).as("the move reports the session gone").isFalse();
        assertThat(jedis.exists(key(newId))).as("no session under the new id").isFalse();
        assertThat(jedis.exists(key(newId) + ":data:cart")).isFalse();
        assertThat(jedis.exists(key(oldId))).isFalse();
    }

    private RedisSessionStore storeOf(UnifiedJedis client, int timeoutMillis) {
        return new RedisSessionStore(new RedisClientHolder(() -> client, RedisClientHolder.Reopen.NEVER, timeoutMillis, 100,
                "test"), new SessionKeys(PREFIX), true, timeoutMillis, 0, 0, 0);
    }

    private static String idOn(Predicate<String> server, int n) {
        int found = 0;
        for (long i = 0; ; i++) {
            String id = String.format("%032X", i * 7919 + 1);
            RedisNode master = REDIS.get().masterForSlot(JedisClusterCRC16.getSlot(id));
            if (server.test(master.serverVersion()) && found++ == n) {
                return id;
            }
        }
    }

    private static String key(String id) {
        return PREFIX + "{" + id + "}";
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
