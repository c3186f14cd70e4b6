package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.RedisStore;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.Topology;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.session.PersistentManager;
import org.apache.catalina.session.StoreBase;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/** Tomcat's PersistentManager with RedisStore: same layout, sessions survive a node switch. */
@Tag("tomcat")
class RedisStoreIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private static PersistentManager persistentManager() {
        PersistentManager manager = new PersistentManager();
        RedisStore store = new RedisStore();
        store.setProperty("redisUri", REDIS.get().uri());
        manager.setStore(store);
        manager.setSaveOnRestart(true);
        return manager;
    }

    /** Counts sessionDestroyed on every node of a test. */
    static final AtomicInteger DESTROYED = new AtomicInteger();

    private static void countDestroyed(Context context) {
        context.addServletContainerInitializer((classes, servletContext) -> servletContext.addListener(
                new HttpSessionListener() {
                    @Override
                    public void sessionDestroyed(HttpSessionEvent event) {
                        DESTROYED.incrementAndGet();
                    }
                }), null);
    }

    /**
     * Regression test for issue 11 (finding 14 of its third attack pass): a session swapped out of
     * every node's memory expires when its deadline passes in Redis, and its listeners fire once,
     * however many nodes run their expiry.
     */
    @Test
    void sessionSwappedOutOfEveryNodeExpiresOnceWhenItsDeadlinePasses() {
        HttpSessionClient browser = new HttpSessionClient();
        try (TomcatNode first = TomcatNode.startWith("pm1", RedisStoreIT::persistentManager, c -> { })) {
            browser.ok(first.url("set?name=color&value=blue"));
        } // saveOnRestart: the session is in Redis and in no node's memory
        PersistentManager managerA = persistentManager();
        PersistentManager managerB = persistentManager();
        try (TomcatNode a = TomcatNode.startWith("pm-a", () -> managerA, RedisStoreIT::countDestroyed);
             TomcatNode b = TomcatNode.startWith("pm-b", () -> managerB, RedisStoreIT::countDestroyed);
             Jedis jedis = REDIS.get().node().client()) {
            String key = "tomcat-session:localhost/app:{" + SessionKeys.baseId(browser.sessionId()) + "}";
            assertThat(jedis.hget(key, "meta:id")).isEqualTo(browser.sessionId());
            String base = SessionKeys.baseId(browser.sessionId());
            jedis.hset(key, "meta:lastAccessedTime", "1000");
            jedis.zadd(Topology.singleSlot(new SessionKeys(RedisUnderTest.PREFIX)).expiryIndexKey(base), 2, base);
            DESTROYED.set(0);

            for (PersistentManager manager : List.of(managerA, managerB, managerA)) {
                ((StoreBase) manager.getStore()).processExpires();
            }

            assertThat(DESTROYED).as("sessionDestroyed calls on both nodes").hasValue(1);
            assertThat(jedis.exists(key)).isFalse();
            assertThat(browser.ok(b.url("get?name=color"))).isEqualTo("no session");
        }
    }

    @Test
    void sessionsSwappedOutByOneNodeAreSwappedInByAnother() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        TomcatNode first = TomcatNode.startWith("pm1", RedisStoreIT::persistentManager, c -> { });
        browser.ok(first.url("set?name=color&value=blue"));
        browser.ok(first.url("cart-add?value=apple"));
        first.close();

        String key = "tomcat-session:localhost/app:{" + SessionKeys.baseId(browser.sessionId()) + "}";
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(jedis.hkeys(key)).contains("meta:creationTime", "meta:lastAccessedTime",
                    "meta:maxInactiveInterval", "attr:color", "attr:cart");
            assertThat(jedis.ttl(key)).isPositive();
        }

        try (TomcatNode second = TomcatNode.startWith("pm2", RedisStoreIT::persistentManager, c -> { })) {
            javax.management.ObjectName metrics = new javax.management.ObjectName(
                    "io.tomcatredis:type=SessionMetrics,host=localhost,context=/app");
            javax.management.MBeanServer jmx = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            long loads = (Long) jmx.getAttribute(metrics, "loads_total");
            assertThat(browser.ok(second.url("get?name=color"))).isEqualTo("blue");
            assertThat((Long) jmx.getAttribute(metrics, "loads_total") - loads).as("issue 16: the swap-in's load")
                    .isEqualTo(1);
            assertThat(browser.ok(second.url("get?name=cart"))).isEqualTo("[apple]");
            assertThat(browser.ok(second.url("id"))).endsWith("new=false");
        }
    }

    @Test
    void aSwapInWhileRedisIsFrozenIsAnswered503AndCounted() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        try (TomcatNode first = TomcatNode.startWith("pm-503a", RedisStoreIT::persistentManager, c -> { })) {
            browser.ok(first.url("set?name=color&value=blue"));
        }
        try (TomcatNode second = TomcatNode.startWith("pm-503b", () -> {
            PersistentManager manager = persistentManager();
            ((RedisStore) manager.getStore()).setProperty("timeoutMillis", "500");
            return manager;
        }, c -> { })) {
            javax.management.ObjectName metrics = new javax.management.ObjectName(
                    "io.tomcatredis:type=SessionMetrics,host=localhost,context=/app");
            javax.management.MBeanServer jmx = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            long answered = (Long) jmx.getAttribute(metrics, "unavailable_responses_total");
            REDIS.get().node().pause();
            try {
                assertThat(browser.get(second.url("get?name=color")).status()).isEqualTo(503);
            } finally {
                REDIS.get().node().resume();
            }
            assertThat((Long) jmx.getAttribute(metrics, "unavailable_responses_total") - answered)
                    .as("issue 16: the 503 of RedisStore's valve").isEqualTo(1);
        }
    }

    private static PersistentManager encryptingPersistentManager(Path keys) {
        PersistentManager manager = persistentManager();
        RedisStore store = (RedisStore) manager.getStore();
        store.setProperty("encryptionKeyFile", keys.toString());
        store.setProperty("maxAttributeBytes", "1000");
        store.setProperty("compressionThreshold", "0");
        return manager;
    }

    /**
     * RedisStore takes the encryption and size attributes of the manager: what it writes is
     * encrypted, read back by another node, and an attribute over maxAttributeBytes is left out
     * with a WARN.
     */
    @Test
    void storeEncryptsAndAppliesSizeLimits() throws IOException {
        Path keys = Files.createTempFile("store-keys", ".txt");
        Files.writeString(keys, "k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
        HttpSessionClient browser = new HttpSessionClient();
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            TomcatNode first = TomcatNode.startWith("pmEnc1", () -> encryptingPersistentManager(keys), c -> { });
            browser.ok(first.url("set?name=color&value=blue"));
            browser.ok(first.url("set?name=big&value=" + "x".repeat(1200)));
            first.close();
            assertThat(log.text()).contains("Session attribute 'big'").contains("over maxAttributeBytes (1000)");
        }
        String key = "tomcat-session:localhost/app:{" + SessionKeys.baseId(browser.sessionId()) + "}";
        try (Jedis jedis = REDIS.get().node().client()) {
            byte[] color = jedis.hget(key.getBytes(StandardCharsets.UTF_8), "attr:color".getBytes(StandardCharsets.UTF_8));
            assertThat(color[0]).as("encrypted").isEqualTo((byte) 0xE7);
            assertThat(jedis.hexists(key, "attr:big")).isFalse();
        }
        try (TomcatNode second = TomcatNode.startWith("pmEnc2", () -> encryptingPersistentManager(keys), c -> { })) {
            assertThat(browser.ok(second.url("get?name=color"))).isEqualTo("blue");
            assertThat(browser.ok(second.url("get?name=big"))).isEqualTo("null");
        } finally {
            Files.deleteIfExists(keys);
        }
    }
}
