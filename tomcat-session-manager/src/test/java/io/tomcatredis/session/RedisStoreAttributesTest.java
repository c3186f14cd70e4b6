package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The attributes a {@code <Store>} element may carry: Tomcat warns about any other, as for a typo. */
class RedisStoreAttributesTest {

    @Test
    void theNearCacheAttributesOfTheManagerAreUnknownToTheStore() {
        RedisStore store = new RedisStore();

        assertThat(store.setProperty("nearCacheSize", "10")).isFalse();
        assertThat(store.setProperty("nearCacheStalenessMillis", "100")).isFalse();
        assertThat(store.setProperty("compressionThreshold", "256")).isTrue();
        assertThat(store.setProperty("redisUri", "redis://localhost:6379")).isTrue();
        assertThat(store.setProperty("noSuchAttribute", "x")).isFalse();
    }
}
