package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.StoredSession;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NearCacheTest {

    private static Map<String, NearCache.Decoded> values(String value) {
        return Map.of("a", new NearCache.Decoded(value.getBytes(), value));
    }

    @Test
    void keepsAtMostItsCapacityTheLeastRecentlyUsedLeavingFirst() {
        NearCache cache = new NearCache(2);
        cache.keep("AA.node1", values("a"), null, NearCache.NO_TOKEN);
        cache.keep("BB", values("b"), null, NearCache.NO_TOKEN);
        assertThat(cache.take("AA.node2", false).values()).as("any route finds it").containsKey("a");
        cache.keep("AA", values("a2"), null, NearCache.NO_TOKEN);

        cache.keep("CC", values("c"), null, NearCache.NO_TOKEN);

        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.take("BB", false).values()).as("least recently kept or taken").isEmpty();
        assertThat(cache.take("AA", false).values().get("a").value()).isEqualTo("a2");
    }

    @Test
    void takeHandsTheValuesToOneLoadOnly() {
        NearCache cache = new NearCache(10);
        cache.keep("AA", values("a"), null, NearCache.NO_TOKEN);

        assertThat(cache.take("AA", false).values()).hasSize(1);
        assertThat(cache.take("AA", false).values()).isEmpty();
        assertThat(cache.size()).isZero();
    }

    @Test
    void capacityZeroKeepsNothing() {
        NearCache cache = new NearCache(0);
        cache.keep("AA", values("a"), null, NearCache.NO_TOKEN);

        assertThat(cache.take("AA", false).values()).isEmpty();
        assertThat(cache.size()).isZero();
    }

    private static StoredSession hash(String id) {
        return new StoredSession(id, 1, 2, 1800, 0, 3, null, null, Map.of(), Set.of(), Set.of(), 0);
    }

    @Test
    void aHashAnswersALoadOnlyWhileInvalidationsAreCurrent() {
        NearCache cache = new NearCache(10);
        long token = cache.take("AA", true).token();
        cache.keep("AA", values("a"), hash("AA"), token);

        assertThat(cache.take("AA", false).stored()).as("not current: Redis must be read").isNull();
        cache.keep("AA", values("a"), hash("AA"), cache.take("AA", true).token());
        assertThat(cache.take("AA", true).stored()).isNotNull();
    }

    @Test
    void aHashIsNotKeptWhenItsSessionChangedAfterTheLoadBegan() {
        NearCache cache = new NearCache(10);
        long token = cache.take("AA", true).token();
        long other = cache.take("BB", true).token();
        cache.invalidated("AA");
        cache.keep("AA", values("a"), hash("AA"), token);
        cache.keep("BB", values("b"), hash("BB"), other);

        NearCache.Lookup aa = cache.take("AA", true);
        assertThat(aa.stored()).as("changed after the token").isNull();
        assertThat(aa.values()).as("values are still checked byte for byte, so they stay").containsKey("a");
        assertThat(cache.take("BB", true).stored()).as("another session's change is not this one's").isNotNull();
    }

    @Test
    void anInvalidationDropsAKeptHashAndALostSubscriptionDropsThemAll() {
        NearCache cache = new NearCache(10);
        cache.keep("AA", values("a"), hash("AA"), cache.take("AA", true).token());
        cache.keep("BB", values("b"), hash("BB"), cache.take("BB", true).token());
        long before = cache.take("CC", true).token();

        cache.invalidated("AA");
        assertThat(cache.take("AA", true).stored()).isNull();
        cache.invalidatedAll();
        assertThat(cache.take("BB", true).stored()).isNull();
        cache.keep("CC", values("c"), hash("CC"), before);
        assertThat(cache.take("CC", true).stored()).as("a token from before the loss").isNull();
    }

    @Test
    void aLoadWithoutTokenNeverKeepsItsHash() {
        NearCache cache = new NearCache(10);
        long token = cache.take("AA", false).token();
        assertThat(token).isEqualTo(NearCache.NO_TOKEN);
        cache.keep("AA", values("a"), hash("AA"), token);
        assertThat(cache.take("AA", true).stored()).isNull();
    }

    @Test
    void forgettingOldInvalidationsRefusesEveryOlderToken() {
        NearCache cache = new NearCache(1);
        long token = cache.take("AA", true).token();
        for (int i = 0; i < 1100; i++) {
            cache.invalidated("X" + i);
        }
        cache.keep("AA", values("a"), hash("AA"), token);
        assertThat(cache.take("AA", true).stored()).as("AA's own invalidation may have been forgotten").isNull();
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
