package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;

/**
 * Issue 15: the local tier under a Redis ACL. A cache user without Pub/Sub rights (the shipped
 * {@code tomcat-cache} rule of conf/users.acl without its {@code &tomcat-cache:*}): the tier stays
 * off (the startup check warns) and the cache works from Redis as without it, no script ever sends
 * a refused PUBLISH. With the channel granted, as shipped, the tier serves and Redis refuses nothing.
 */
class LocalTierAclIT {

    private static final String PASSWORD = "local-tier-secret";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone(RedisOptions.DEFAULTS
            .withShippedConf(ProjectConf.aclFileWithPasswords(Map.of("tomcat-cache", PASSWORD)), "admin",
                    "harness-admin-secret"));

    /** The shipped cache user without Pub/Sub rights. */
    private static void createUserWithoutChannels(Jedis admin) {
        List<String> rules = new ArrayList<>(ProjectConf.aclRules("tomcat-cache", "&tomcat-cache:*", "resetchannels"));
        rules.add(">" + PASSWORD);
        admin.aclSetUser("tomcat-cache-nopubsub", rules.toArray(String[]::new));
    }

    private static Map<String, String> params(String user) {
        return Map.of("redisUri", "redis://" + user + ":" + PASSWORD + "@" + REDIS.get().node().host() + ":"
                + REDIS.get().node().port(), "include", "/catalog/* 60", "allowedHosts", "127.0.0.1",
                "localTierBytes", "1000000");
    }

    @Test
    void withoutPubSubRightsTheTierStaysOffAndPagesAreCachedInRedisAsBefore() {
        try (Jedis admin = REDIS.get().node().client()) {
            createUserWithoutChannels(admin);
        }
        try (CacheNode node = CacheNode.start("acl-none", params("tomcat-cache-nopubsub"));
             Jedis admin = REDIS.get().node().client()) {
            assertThat(Http.get(node.url("/catalog/page?id=acl1")).cache()).isEqualTo("MISS");
            for (int i = 0; i < 3; i++) {
                assertThat(Http.get(node.url("/catalog/page?id=acl1")).cache()).isEqualTo("HIT");
            }
            node.cache().evictUrl(node.url("/catalog/page?id=acl1"));
            assertThat(Http.get(node.url("/catalog/page?id=acl1")).cache()).isEqualTo("MISS");
            assertThat(node.cache().statistics().isLocalTierServing()).isFalse();
            assertThat(node.cache().statistics().getLocalHits()).isZero();
            assertThat(admin.aclLog()).as("refused: the subscription only, never a script's PUBLISH")
                    .allSatisfy(entry -> assertThat(entry.getContext()).isNotEqualTo("lua"));
        }
    }

    @Test
    void withTheChannelGrantedTheTierServesAndRedisRefusesNothing() {
        try (Jedis admin = REDIS.get().node().client()) {
            admin.aclLogReset();
            try (CacheNode node = CacheNode.start("acl-pubsub", params("tomcat-cache"))) {
                Await.until(Duration.ofSeconds(30), "the local tier serves",
                        () -> node.cache().statistics().isLocalTierServing());
                Http.get(node.url("/catalog/page?id=acl2"));
                Await.until(Duration.ofSeconds(30), "a local hit", () -> {
                    Http.get(node.url("/catalog/page?id=acl2"));
                    return node.cache().statistics().getLocalHits() > 0;
                });
                node.cache().evictUrl(node.url("/catalog/page?id=acl2"));
                assertThat(Http.get(node.url("/catalog/page?id=acl2")).cache()).isEqualTo("MISS");
                assertThat(admin.aclLog()).isEmpty();
            }
        }
    }
}
