package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.RedisStore;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import org.apache.catalina.session.PersistentManager;
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

    @Test
    void sessionsSwappedOutByOneNodeAreSwappedInByAnother() {
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
            assertThat(browser.ok(second.url("get?name=color"))).isEqualTo("blue");
            assertThat(browser.ok(second.url("get?name=cart"))).isEqualTo("[apple]");
            assertThat(browser.ok(second.url("id"))).endsWith("new=false");
        }
    }
}
