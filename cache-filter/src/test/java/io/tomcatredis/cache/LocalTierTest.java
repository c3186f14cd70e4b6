package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The local tier's rules, with time injected: the gate, the generation, the index of key names, expiry. */
class LocalTierTest {

    private static final long NOW = 1_800_000_000_000L;
    private static final CacheKeys KEYS = new CacheKeys("t:");

    private final MutableClock clock = new MutableClock(NOW);
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final LocalTier tier = new LocalTier(KEYS, 100_000, 1000, clock, nanos::get);

    private static LocalTier.Copy copy(String key, String... tags) {
        return new LocalTier.Copy(new CachedResponse(key, 200, List.of(), new byte[] {'x'}, false, 1, "\"e\"", NOW,
                NOW + 60_000, NOW + 60_000, Set.of(tags), false, false, null, Set.of(), Set.of()), null, key,
                NOW + 60_000);
    }

    private void live() {
        tier.subscribed();
        tier.pong(nanos.get());
    }

    @Test
    void nothingIsKeptOrServedBeforeTheFirstHeartbeatIsBack() {
        tier.put("http://h/a", copy("http://h/a"), tier.generation());
        tier.subscribed();
        tier.put("http://h/a", copy("http://h/a"), tier.generation());
        assertThat(tier.get("http://h/a")).isNull();
        tier.pong(nanos.get());
        tier.put("http://h/a", copy("http://h/a"), tier.generation());
        assertThat(tier.get("http://h/a")).isNotNull();
    }

    @Test
    void aLateHeartbeatClosesTheGateAndDropsEveryCopy() {
        live();
        tier.put("http://h/a", copy("http://h/a"), tier.generation());
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1000));
        assertThat(tier.serving()).isFalse();
        assertThat(tier.get("http://h/a")).isNull();
        tier.pong(nanos.get());
        assertThat(tier.get("http://h/a")).as("dropped, not hidden").isNull();
        assertThat(tier.count()).isZero();
    }

    @Test
    void aMessageDuringTheLookupRefusesItsCopy() {
        live();
        long generation = tier.generation();
        tier.invalidate(KEYS.entry("http://h/other").getBytes(StandardCharsets.UTF_8));
        tier.put("http://h/a", copy("http://h/a"), generation);
        assertThat(tier.get("http://h/a")).isNull();
    }

    @Test
    void aMessageNamingTheEntryRemovesItsCopyAndOnlyIt() {
        live();
        tier.put("http://h/a", copy("http://h/a"), tier.generation());
        tier.put("http://h/b", copy("http://h/b"), tier.generation());
        tier.invalidate(KEYS.entry("http://h/a").getBytes(StandardCharsets.UTF_8));
        assertThat(tier.get("http://h/a")).isNull();
        assertThat(tier.get("http://h/b")).isNotNull();
        // A copy kept again after its first one went is still found by the next message.
        tier.put("http://h/a", copy("http://h/a"), tier.generation());
        tier.put("http://h/a", copy("http://h/a"), tier.generation());
        tier.invalidate(KEYS.entry("http://h/a").getBytes(StandardCharsets.UTF_8));
        assertThat(tier.get("http://h/a")).isNull();
    }

    @Test
    void evictionsOfThisNodeDropItsCopiesByUrlAndByTag() {
        live();
        tier.put("http://h/a", copy("http://h/a", "red"), tier.generation());
        tier.put("http://h/b", copy("http://h/b"), tier.generation());
        tier.evictedTag("red");
        assertThat(tier.get("http://h/a")).isNull();
        tier.evictedUrl("http://h/b");
        assertThat(tier.get("http://h/b")).isNull();
    }

    @Test
    void aCopyGoesWhenItsTimeEnds() {
        live();
        LocalTier.Copy shortLived = new LocalTier.Copy(copy("http://h/a").entry(), null, "http://h/a", NOW + 500);
        tier.put("http://h/a", shortLived, tier.generation());
        assertThat(tier.get("http://h/a")).isNotNull();
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(600));
        clock.advance(600);
        tier.pong(nanos.get());
        assertThat(tier.get("http://h/a")).isNull();
    }

    @Test
    void offKeepsNothing() {
        LocalTier off = new LocalTier(KEYS, 0, 1000, clock, nanos::get);
        off.subscribed();
        off.pong(nanos.get());
        off.put("http://h/a", copy("http://h/a"), off.generation());
        assertThat(off.get("http://h/a")).isNull();
        assertThat(off.bytes()).isZero();
    }
}
