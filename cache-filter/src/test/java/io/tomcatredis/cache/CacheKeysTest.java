package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.RedisConnectionSettings;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.util.JedisClusterCRC16;

/** The layout {@link CacheKeys} documents: unchanged on standalone, buckets spread over the slots on Cluster. */
class CacheKeysTest {

    private static final String URL = "https://shop.example.com/shop/catalog/42?page=2";

    @Test
    void standaloneAndSentinelKeepTheOneCacheHashTag() {
        for (RedisConnectionSettings.Topology topology : List.of(RedisConnectionSettings.Topology.STANDALONE,
                RedisConnectionSettings.Topology.SENTINEL)) {
            CacheKeys keys = CacheKeys.of("tomcat-cache:/shop:", topology);
            assertThat(keys.buckets()).hasSize(1);
            assertThat(keys.entry(URL)).isEqualTo("tomcat-cache:/shop:{cache}e:" + CacheKeys.hash(URL));
            assertThat(keys.urlEvicted(URL)).isEqualTo("tomcat-cache:/shop:{cache}x:" + CacheKeys.hash(URL));
            CacheKeys.Bucket bucket = keys.bucketOf(URL);
            assertThat(List.of(bucket.lru(), bucket.sizes(), bucket.bytes(), bucket.listeners(), bucket.tag("sale"),
                    bucket.tagEvicted("sale"), keys.invalidations())).containsExactly("tomcat-cache:/shop:{cache}lru",
                    "tomcat-cache:/shop:{cache}sizes", "tomcat-cache:/shop:{cache}bytes",
                    "tomcat-cache:/shop:{cache}listeners", "tomcat-cache:/shop:{cache}t:sale",
                    "tomcat-cache:/shop:{cache}xt:sale", "tomcat-cache:/shop:{cache}invalidations");
        }
    }

    @Test
    void clusterBucketsHaveEvenlySpacedSlots() {
        List<String> tags = CacheKeys.bucketTags();
        assertThat(tags).hasSize(CacheKeys.CLUSTER_BUCKETS).doesNotHaveDuplicates();
        int width = 16384 / CacheKeys.CLUSTER_BUCKETS;
        for (int b = 0; b < tags.size(); b++) {
            assertThat(tags.get(b)).startsWith("cache-" + b + "-");
            assertThat(JedisClusterCRC16.getSlot(tags.get(b))).as("slot of bucket %d", b)
                    .isBetween(b * width, (b + 1) * width - 1);
        }
        CacheKeys keys = CacheKeys.of("p:", RedisConnectionSettings.Topology.CLUSTER);
        assertThat(keys.buckets()).hasSize(CacheKeys.CLUSTER_BUCKETS);
        assertThat(keys.invalidations()).as("one channel for every bucket").isEqualTo("p:{cache}invalidations");
    }

    @Test
    void everyKeyOfAUrlIsInItsBucketsSlot() {
        CacheKeys keys = CacheKeys.cluster("p:");
        String variant = URL + "\nlanguages=de\nvary\naccept-encoding=gzip";
        CacheKeys.Bucket bucket = keys.bucketOf(URL);
        int slot = JedisClusterCRC16.getSlot(bucket.lru());
        List<String> all = new ArrayList<>(List.of(keys.entry(URL), keys.entry(variant), keys.lease(variant),
                keys.lease(CanonicalUrl.earlyRefresh(variant)), keys.pass(URL), keys.variants(URL),
                keys.urlEvicted(URL), bucket.sizes(), bucket.bytes(), bucket.tag("sale"), bucket.tagEvicted("sale"),
                bucket.listeners()));
        for (String key : all) {
            assertThat(key).startsWith("p:{cache-");
            assertThat(JedisClusterCRC16.getSlot(key)).as(key).isEqualTo(slot);
        }
        assertThat(keys.bucketOf(variant)).isSameAs(bucket);
    }

    @Test
    void urlsSpreadOverEveryClusterBucket() {
        CacheKeys keys = CacheKeys.cluster("p:");
        int[] perBucket = new int[CacheKeys.CLUSTER_BUCKETS];
        Set<Integer> slots = new HashSet<>();
        for (int i = 0; i < 32_000; i++) {
            CacheKeys.Bucket bucket = keys.bucketOf("https://shop.example.com/p/" + i);
            perBucket[keys.buckets().indexOf(bucket)]++;
            slots.add(JedisClusterCRC16.getSlot(bucket.lru()));
        }
        assertThat(slots).hasSize(CacheKeys.CLUSTER_BUCKETS);
        for (int count : perBucket) {
            assertThat(count).isBetween(900, 1100);
        }
    }
}
