package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;

/**
 * Issue 15, the local tier's contract with Redis: every script that removes or replaces an entry
 * or a Vary marker publishes its key name on {@code <keyPrefix>{cache}invalidations}, in the same
 * script (nothing can change in between), so that no node's copy outlives it. Real Redis, a plain
 * subscriber.
 */
@Tag("valkey")
class InvalidationChannelIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private static final CacheKeys KEYS = new CacheKeys("t:");
    private static final long NOW = 1_800_000_000_000L;

    private final MutableClock clock = new MutableClock(NOW);
    private final BlockingQueue<String> published = new LinkedBlockingQueue<>();
    private Jedis subscriberConnection;
    private JedisPubSub subscriber;
    private RedisClientHolder redis;
    private CacheStore store;

    @BeforeEach
    void subscribe() throws InterruptedException {
        REDIS.get().flushAll();
        CountDownLatch subscribed = new CountDownLatch(1);
        subscriber = new JedisPubSub() {
            @Override
            public void onSubscribe(String channel, int count) {
                subscribed.countDown();
            }

            @Override
            public void onMessage(String channel, String message) {
                published.add(message);
            }
        };
        subscriberConnection = REDIS.get().node().client();
        Thread thread = new Thread(() -> subscriberConnection.subscribe(subscriber, KEYS.invalidations()));
        thread.setDaemon(true);
        thread.start();
        assertThat(subscribed.await(30, TimeUnit.SECONDS)).as("SUBSCRIBE confirmed").isTrue();
        redis = RedisConnector.connect(RedisConnectionSettings.parse(Map.of("redisUri", REDIS.get().uri())::get),
                "invalidation-channel-test");
        store = new CacheStore(redis, KEYS, clock, true);
        try (Jedis jedis = REDIS.get().node().client()) {
            // What a listening local tier's heartbeat keeps.
            jedis.set(KEYS.buckets().get(0).listeners(), "1");
        }
    }

    @AfterEach
    void close() {
        subscriber.unsubscribe();
        subscriberConnection.close();
        redis.close();
    }

    private static CachedResponse entry(String key, String... tags) {
        return new CachedResponse(key, 200, List.of(), new byte[] {'x'}, false, 1, "\"e\"", NOW, NOW + 60_000,
                NOW + 60_000, Set.of(tags), false, false, null, Set.of(), Set.of());
    }

    private void store(String url, String... tags) {
        long since = store.lookup(url, "t", 5000, true).since();
        assertThat(store.store(entry(url, tags), url, url, "t", 1 << 20, since)).isNotNegative();
    }

    /** The messages published by one action, read until a marker message sent after it arrives. */
    private List<String> publishedBy(Runnable action) throws InterruptedException {
        published.clear();
        action.run();
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.publish(KEYS.invalidations(), "end");
        }
        List<String> messages = new ArrayList<>();
        for (String message; !"end".equals(message = published.poll(30, TimeUnit.SECONDS)); ) {
            assertThat(message).as("a message before the end marker").isNotNull();
            messages.add(message);
        }
        return messages;
    }

    @Test
    void aFirstStorePublishesNothingAReplacingStorePublishesTheEntry() throws InterruptedException {
        assertThat(publishedBy(() -> store("http://h/a"))).isEmpty();
        assertThat(publishedBy(() -> store("http://h/a"))).containsExactly(KEYS.entry("http://h/a"));
    }

    @Test
    void evictionsByUrlAndByTagPublishEveryEntryTheyRemove() throws InterruptedException {
        store("http://h/a", "red");
        store("http://h/b", "red");
        store("http://h/c");
        assertThat(publishedBy(() -> store.evictTag("red", 1L << 30)))
                .containsExactlyInAnyOrder(KEYS.entry("http://h/a"), KEYS.entry("http://h/b"));
        assertThat(publishedBy(() -> store.evictUrl("http://h/c", 1L << 30))).containsExactly(KEYS.entry("http://h/c"));
    }

    @Test
    void theByteBudgetsEvictionsArePublished() throws InterruptedException {
        store("http://h/old");
        long oneEntry = store.bytesStored();
        clock.advance(1);
        long since = store.lookup("http://h/new", "t", 5000, true).since();
        assertThat(publishedBy(() -> store.store(entry("http://h/new"), "http://h/new", "http://h/new", "t",
                oneEntry + 1, since))).containsExactly(KEYS.entry("http://h/old"));
    }

    @Test
    void aVaryMarkerIsPublishedWhenItNamesOtherHeaders() throws InterruptedException {
        assertThat(publishedBy(() -> store.markVary("http://h/v", "accept-language", NOW + 60_000)))
                .containsExactly(KEYS.entry("http://h/v"));
        assertThat(publishedBy(() -> store.markVary("http://h/v", "accept-language", NOW + 60_000))).isEmpty();
        assertThat(publishedBy(() -> store.markVary("http://h/v", "accept-language,x-theme", NOW + 60_000)))
                .containsExactly(KEYS.entry("http://h/v"));
    }

    @Test
    void withNoLocalTierListeningNothingIsPublished() throws InterruptedException {
        store("http://h/a", "red");
        try (Jedis jedis = REDIS.get().node().client()) {
            jedis.del(KEYS.buckets().get(0).listeners());
        }
        assertThat(publishedBy(() -> {
            store("http://h/a", "red");
            store.markVary("http://h/v", "accept-language", NOW + 60_000);
            store.evictTag("red", 1L << 30);
            store.evictUrl("http://h/v", 1L << 30);
        })).isEmpty();
    }

    @Test
    void aHitTellsItsTimeToLiveOnlyWhenTheLocalTierAsks() {
        store("http://h/a");
        assertThat(store.lookup("http://h/a", "t", 5000, true).ttlMillis()).isBetween(1L, 60_000L);
        assertThat(new CacheStore(redis, KEYS, clock).lookup("http://h/a", "t", 5000, true).ttlMillis())
                .isEqualTo(-1);
    }

    /**
     * A heartbeat that finds the listeners key gone (FLUSHALL, DEL, maxmemory eviction: scripts may
     * have removed entries unannounced) first publishes {@code heartbeat listeners-lost}, on which
     * every tier drops its copies; with the key there, only the heartbeat itself.
     */
    @Test
    void aHeartbeatThatFindsTheListenersKeyGoneFirstPublishesListenersLost() throws InterruptedException {
        List<byte[]> keys = List.of(KEYS.buckets().get(0).listeners().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        List<byte[]> args = List.of("3000".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                KEYS.invalidations().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "heartbeat n 1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        try (Jedis jedis = REDIS.get().node().client()) {
            assertThat(publishedBy(() -> redis.call(jedis1 -> CacheKeys.HEARTBEAT.run(jedis1, keys, args))))
                    .containsExactly("heartbeat n 1");
            jedis.del(KEYS.buckets().get(0).listeners());
            assertThat(publishedBy(() -> redis.call(jedis1 -> CacheKeys.HEARTBEAT.run(jedis1, keys, args))))
                    .containsExactly("heartbeat listeners-lost", "heartbeat n 1");
            assertThat(jedis.pttl(KEYS.buckets().get(0).listeners())).isBetween(1L, 3000L);
        }
    }
}
