package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.tomcatredis.connection.RedisClientHolder;
import org.junit.jupiter.api.Test;

/** Whatever the Redis client or its pool throws reaches the filter and the application as CacheUnavailableException. */
class CacheStoreFailureTest {

    @Test
    void anyExceptionOfTheClientBecomesCacheUnavailable() {
        RedisClientHolder redis = mock(RedisClientHolder.class);
        when(redis.call(any())).thenThrow(new IllegalStateException("Pool not open"));
        CacheStore store = new CacheStore(redis, new CacheKeys("p:"), new MutableClock(0));

        assertThatThrownBy(() -> store.evictTag("t", 1L << 30)).isInstanceOf(CacheUnavailableException.class)
                .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("Pool not open");
        assertThatThrownBy(() -> store.evictUrl("https://h/p", 1L << 30)).isInstanceOf(CacheUnavailableException.class);
        assertThatThrownBy(() -> store.lookup("https://h/p", "t", 5000, true))
                .isInstanceOf(CacheUnavailableException.class);
    }
}
