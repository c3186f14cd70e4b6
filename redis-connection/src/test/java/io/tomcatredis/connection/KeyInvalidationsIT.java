package io.tomcatredis.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;

/** {@link KeyInvalidations} on a real Redis: what it hears, and that it never claims to be current when it may have missed something. */
class KeyInvalidationsIT {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private final List<String> keys = new CopyOnWriteArrayList<>();
    private final AtomicInteger all = new AtomicInteger();
    private RedisConnectionSettings settings;
    private RedisClientHolder holder;
    private KeyInvalidations invalidations;

    @BeforeEach
    void start() {
        settings = RedisConnectionSettings.parse(Map.of(RedisConnectionSettings.REDIS_URI, REDIS.get().uri(),
                RedisConnectionSettings.TIMEOUT_MILLIS, "1000")::get);
        holder = RedisConnector.connect(settings, "test");
        invalidations = KeyInvalidations.start(settings, holder, "test-invalidations", "p:", 200, new KeyInvalidations.Listener() {
            @Override
            public void invalidated(String key) {
                keys.add(key);
            }

            @Override
            public void invalidatedAll() {
                all.incrementAndGet();
            }
        });
        Await.until(WAIT, "subscription confirmed", invalidations::isCurrent);
    }

    @AfterEach
    void stop() {
        REDIS.get().node().resume();
        invalidations.close();
        holder.close();
    }

    @Test
    void hearsEveryChangeOfAKeyUnderThePrefixAndNoOther() {
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.hset("p:{a}", "f", "v");
            jedis.set("q:{b}", "v");
            jedis.del("p:{a}");
            jedis.set("p:{c}", "v");
            jedis.pexpire("p:{c}", 1);
            Await.until(WAIT, "the expiry of p:{c} heard, got " + keys, () -> keys.stream().filter("p:{c}"::equals).count() >= 3);
        }
        assertThat(keys).doesNotContain("q:{b}").contains("p:{a}").filteredOn("p:{a}"::equals).hasSize(2);
    }

    @Test
    void aFlushInvalidatesEverything() {
        int before = all.get();
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.flushAll();
        }
        Await.until(WAIT, "flush heard " + keys, () -> all.get() > before);
    }

    @Test
    void aKilledSubscriptionInvalidatesEverythingAndIsOpenedAgain() {
        int before = all.get();
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.sendCommand(Protocol.Command.CLIENT, "KILL", "TYPE", "pubsub");
        }
        Await.until(WAIT, "loss heard", () -> all.get() > before);
        Await.until(WAIT, "subscription confirmed again", invalidations::isCurrent);
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.set("p:{after}", "v");
        }
        Await.until(WAIT, "a change heard on the new subscription", () -> keys.contains("p:{after}"));
    }

    @Test
    void aRedisThatStopsAnsweringIsNotCurrentWithinTheBound() {
        REDIS.get().node().pause();
        Await.until(WAIT, "no longer current", () -> !invalidations.isCurrent());
        REDIS.get().node().resume();
        Await.until(WAIT, "current again", invalidations::isCurrent);
    }

    @Test
    void aUserWithoutTheChannelsIsRefusedWithAWarningAndNeverCurrent() {
        try (Jedis admin = REDIS.get().node().client()) {
            admin.aclSetUser("nochannels", "on", ">pw-nochannels", "~p:*", "resetchannels", "+@all");
        }
        RedisConnectionSettings limited = RedisConnectionSettings.parse(Map.of(RedisConnectionSettings.REDIS_URI,
                REDIS.get().uri().replace("redis://", "redis://nochannels:pw-nochannels@"))::get);
        List<String> warnings = new CopyOnWriteArrayList<>();
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(KeyInvalidations.class.getName());
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                if (record.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
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
        logger.addHandler(handler);
        try (RedisClientHolder limitedHolder = RedisConnector.connect(limited, "limited");
             KeyInvalidations refused = KeyInvalidations.start(limited, limitedHolder, "limited-invalidations", "p:", 200,
                     new KeyInvalidations.Listener() {
                         @Override
                         public void invalidated(String key) {
                         }

                         @Override
                         public void invalidatedAll() {
                         }
                     })) {
            Await.until(WAIT, "a warning naming the refusal", () -> warnings.stream().anyMatch(w -> w.contains("NOPERM")));
            assertThat(refused.isCurrent()).isFalse();
        } finally {
            logger.removeHandler(handler);
        }
    }

    @Test
    void redisClusterIsRefused() {
        RedisConnectionSettings cluster = RedisConnectionSettings.parse(Map.of(RedisConnectionSettings.REDIS_URI,
                REDIS.get().uri(), RedisConnectionSettings.CLUSTER_NODES, "127.0.0.1:7000")::get);
        assertThatThrownBy(() -> KeyInvalidations.start(cluster, holder, "x", "p:", 100, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Redis Cluster");
    }
}
