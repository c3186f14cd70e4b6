package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class NearCacheTest {

    private static Map<String, NearCache.Decoded> values(String value) {
        return Map.of("a", new NearCache.Decoded(value.getBytes(), value));
    }

    @Test
    void keepsAtMostItsCapacityTheLeastRecentlyUsedLeavingFirst() {
        NearCache cache = new NearCache(2);
        cache.keep("AA.node1", values("a"));
        cache.keep("BB", values("b"));
        assertThat(cache.take("AA.node2")).as("any route finds it").containsKey("a");
        cache.keep("AA", values("a2"));

        cache.keep("CC", values("c"));

        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.take("BB")).as("least recently kept or taken").isEmpty();
        assertThat(cache.take("AA").get("a").value()).isEqualTo("a2");
    }

    @Test
    void takeHandsTheValuesToOneLoadOnly() {
        NearCache cache = new NearCache(10);
        cache.keep("AA", values("a"));

        assertThat(cache.take("AA")).hasSize(1);
        assertThat(cache.take("AA")).isEmpty();
        assertThat(cache.size()).isZero();
    }

    @Test
    void capacityZeroKeepsNothing() {
        NearCache cache = new NearCache(0);
        cache.keep("AA", values("a"));

        assertThat(cache.take("AA")).isEmpty();
        assertThat(cache.size()).isZero();
    }

    @Test
    void aValueMatchesOnlyTheExactBytesItCameFrom() {
        NearCache.Decoded decoded = new NearCache.Decoded(new byte[] {1, 2, 3}, "x");

        assertThat(decoded.matches(new byte[] {1, 2, 3})).isTrue();
        assertThat(decoded.matches(new byte[] {1, 2, 4})).isFalse();
        assertThat(decoded.matches(new byte[] {1, 2})).isFalse();
        assertThat(decoded.matches(null)).isFalse();
    }

    @Test
    void anObjectIsInSyncOnlyWhenNoRequestAcquiredItSinceTheSaveThatLookedAtIt() {
        RedisSession session = new RedisSession(new RedisSessionManager());
        session.setId("AA", false);
        assertThat(session.isInSync()).as("never saved").isFalse();
        session.tryAcquire();
        session.markInSync(session.acquisitions());
        assertThat(session.isInSync()).isTrue();

        session.tryAcquire();
        assertThat(session.isInSync()).as("a second request may have changed it after the save").isFalse();
        session.markInSync(session.acquisitions());
        assertThat(session.isInSync()).as("a save while two requests use it proves nothing").isFalse();
    }
}
