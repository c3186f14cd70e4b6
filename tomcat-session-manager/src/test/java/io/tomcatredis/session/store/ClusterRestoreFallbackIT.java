package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisNode;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.RedisServer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.resps.Tuple;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Id changes across slots (export.lua, import.lua) when RESTORE refuses the DUMP payload, on a real
 * mixed-version cluster as during a rolling upgrade: one master runs Valkey 8 (RDB 11 payloads),
 * the other Redis 7.0, which answers {@code ERR DUMP payload version or checksum are wrong}; and an
 * ACL user without {@code restore}. The session then moves field by field (copy_export.lua,
 * copy_import.lua): same hash, same structures by type, same TTLs and deadline, the old id gone.
 */
class ClusterRestoreFallbackIT {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.of(() -> ClusterRedis.start(2, 0,
            RedisOptions.DEFAULTS.withServer(RedisServer.REDIS).withServerOnNode("shard-1-master", RedisServer.VALKEY)));

    private static final String PREFIX = "tomcat-session:localhost/app:";

    private UnifiedJedis jedis;
    private RedisSessionStore store;
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void connect() {
        REDIS.get().flushAll();
        jedis = RedisClusterClient.builder().nodes(REDIS.get().hostAndPorts()).clientConfig(REDIS.get().clientConfig())
                .build();
        store = storeOf(jedis);
        Logger.getLogger(ClusterTopology.class.getName()).addHandler(capture);
    }

    @AfterEach
    void close() {
        Logger.getLogger(ClusterTopology.class.getName()).removeHandler(capture);
        jedis.close();
    }

    @Test
    void idChangeFromAValkey8MasterToARedis70MasterCopiesFieldByFieldAndWarnsOnce() {
        String oldId = idOn(server -> server.startsWith("valkey 8"), 0);
        String newId = idOn(server -> server.startsWith("redis 7.0"), 0);
        Snapshot before = sessionWithEveryStructureType(oldId);

        assertThat(store.changeId(oldId + ".node1", newId + ".node2")).isTrue();

        assertMovedIntact(before, oldId, newId);
        assertThat(warnings).singleElement().asString()
                .contains("RESTORE refused", "DUMP payload version or checksum are wrong", "field by field");

        String third = idOn(server -> server.startsWith("redis 7.0"), 1);
        String fourth = idOn(server -> server.startsWith("valkey 8"), 1);
        Snapshot again = sessionWithEveryStructureType(fourth);
        assertThat(store.changeId(fourth, third)).isTrue();
        assertMovedIntact(again, fourth, third);
        assertThat(warnings).as("logged once").hasSize(1);
    }

    @Test
    void idChangeFromRedis70ToValkey8RestoresTheDumpWithoutFallback() {
        String oldId = idOn(server -> server.startsWith("redis 7.0"), 2);
        String newId = idOn(server -> server.startsWith("valkey 8"), 2);
        Snapshot before = sessionWithEveryStructureType(oldId);

        assertThat(store.changeId(oldId, newId)).isTrue();

        assertMovedIntact(before, oldId, newId);
        assertThat(warnings).as("an older payload restores on a newer server").isEmpty();
    }

    /** An ACL user without {@code restore} (Redis answers from the script: the user can't run this command). */
    @Test
    void idChangeByAUserWhoseAclLacksRestoreCopiesFieldByField() {
        for (RedisNode master : REDIS.get().masters()) {
            try (Jedis admin = master.client()) {
                admin.aclSetUser("mover", "on", ">mover-secret", "~*", "&*", "+@all", "-restore");
            }
        }
        try (UnifiedJedis mover = RedisClusterClient.builder().nodes(REDIS.get().hostAndPorts())
                .clientConfig(DefaultJedisClientConfig.builder().user("mover").password("mover-secret").build()).build()) {
            RedisSessionStore moverStore = storeOf(mover);
            String oldId = idOn(server -> server.startsWith("redis 7.0"), 3);
            String newId = idOn(server -> server.startsWith("redis 7.0"), 4);
            Snapshot before = sessionWithEveryStructureType(oldId);

            assertThat(moverStore.changeId(oldId, newId)).isTrue();

            assertMovedIntact(before, oldId, newId);
            assertThat(warnings).singleElement().asString().contains("RESTORE refused", "can't run this command");
            assertThat(moverStore.load(newId, 0)).isInstanceOf(LoadResult.Loaded.class);
        }
    }

    private RedisSessionStore storeOf(UnifiedJedis client) {
        return new RedisSessionStore(new RedisClientHolder(() -> client, RedisClientHolder.Reopen.NEVER, 2000, 100,
                "test"), new SessionKeys(PREFIX), true, 2000, 0, 0, 0);
    }

    /** A session with attributes and one structure of every type data_write.lua may write. */
    private Snapshot sessionWithEveryStructureType(String id) {
        store.save(id, SessionChanges.created(1_000, 600).id(id + ".node1")
                .setAttribute("color", bytes("blue")).setAttribute("binary", new byte[] {0, (byte) 0xff, 10, 13}));
        store.writeData(id, "cart", "RPUSH", List.of("b", "a", "b"));
        store.writeData(id, "seen", "SADD", List.of("p-1", "p-2"));
        store.writeData(id, "scores", "ZADD", List.of("1.5", "x", "-2", "y"));
        store.writeData(id, "prefs", "HSET", List.of("lang", "fr", "tz", "CET"));
        store.writeData(id, "note", "SET", List.of("hello\nworld"));
        // Longer than one unpack() chunk of copy_import.lua (1000 values).
        store.writeData(id, "long", "RPUSH", java.util.stream.IntStream.range(0, 2_500).mapToObj(Integer::toString).toList());
        return snapshot(id);
    }

    private void assertMovedIntact(Snapshot before, String oldId, String newId) {
        Snapshot after = snapshot(newId);
        Map<String, String> expectedHash = new java.util.HashMap<>(before.hash());
        expectedHash.putIfAbsent("meta:sealId", oldId);
        assertThat(after.hash()).isEqualTo(expectedHash);
        assertThat(jedis.hget(key(newId).getBytes(StandardCharsets.UTF_8), "attr:binary".getBytes(StandardCharsets.UTF_8)))
                .as("bytes as they were").containsExactly(0, (byte) 0xff, 10, 13);
        assertThat(after.cart()).isEqualTo(before.cart()).containsExactly("b", "a", "b");
        assertThat(after.seen()).isEqualTo(before.seen()).hasSize(2);
        assertThat(after.scores()).isEqualTo(before.scores()).hasSize(2);
        assertThat(after.prefs()).isEqualTo(before.prefs()).hasSize(2);
        assertThat(after.note()).isEqualTo(before.note()).isEqualTo("hello\nworld");
        assertThat(jedis.lrange(key(newId) + ":data:long", 0, -1)).as("in order, every chunk")
                .isEqualTo(java.util.stream.IntStream.range(0, 2_500).mapToObj(Integer::toString).toList());
        assertThat(after.score()).as("the same deadline").isEqualTo(before.score());
        for (String suffix : List.of("", ":data:cart", ":data:seen", ":data:scores", ":data:prefs", ":data:note",
                ":data:long")) {
            long ttl = jedis.pttl(key(newId) + suffix);
            assertThat(ttl).as("TTL of " + suffix).isPositive().isBetween(before.ttl() - 10_000, before.ttl());
            assertThat(jedis.exists(key(oldId) + suffix)).as("old " + suffix).isFalse();
        }
        assertThat(jedis.zscore(store.topology().expiryIndexKey(oldId), oldId)).as("old index entry").isNull();
        LoadResult loaded = store.load(newId, 0);
        assertThat(loaded).isInstanceOf(LoadResult.Loaded.class);
        assertThat(((LoadResult.Loaded) loaded).session().binding(newId)).as("meta:sealId").isEqualTo(
                before.hash().getOrDefault("meta:sealId", oldId));
    }

    private Snapshot snapshot(String id) {
        String key = key(id);
        return new Snapshot(jedis.hgetAll(key), jedis.lrange(key + ":data:cart", 0, -1),
                new java.util.TreeSet<>(jedis.smembers(key + ":data:seen")),
                jedis.zrangeWithScores(key + ":data:scores", 0, -1), jedis.hgetAll(key + ":data:prefs"),
                jedis.get(key + ":data:note"), jedis.zscore(store.topology().expiryIndexKey(id), id), jedis.pttl(key));
    }

    private record Snapshot(Map<String, String> hash, List<String> cart, java.util.Set<String> seen, List<Tuple> scores,
            Map<String, String> prefs, String note, Double score, long ttl) {
    }

    /** The n-th id (32 hex digits) whose slot a master running a matching server serves. */
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
