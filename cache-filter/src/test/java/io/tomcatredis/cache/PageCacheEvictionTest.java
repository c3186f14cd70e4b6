package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** Evictions when Redis fails: the filter's own exception to the application, and the circuit breaker respected. */
class PageCacheEvictionTest {

    private final MutableClock clock = new MutableClock(1_800_000_000_000L);
    private final CacheStore store = mock(CacheStore.class);
    private final PageCache cache = new PageCache(CacheSettings.parse(Map.of("include", "/*", "allowedHosts", "h",
            "circuitBreakerMillis", "10000")::get, ""), store, new CacheStatistics(() -> 0), clock);

    private static CacheUnavailableException down() {
        return new CacheUnavailableException("EVALSHA", new JedisConnectionException("connection refused"));
    }

    private static HttpServletRequest post() {
        HttpServletRequest request = mock(HttpServletRequest.class);
        ServletContext context = mock(ServletContext.class);
        when(request.getDispatcherType()).thenReturn(DispatcherType.REQUEST);
        when(request.getMethod()).thenReturn("POST");
        when(request.getScheme()).thenReturn("https");
        when(request.getServerName()).thenReturn("h");
        when(request.getServletContext()).thenReturn(context);
        when(context.getContextPath()).thenReturn("");
        when(request.getServletPath()).thenReturn("/p");
        when(request.getRequestURI()).thenReturn("/p");
        return request;
    }

    @Test
    void evictionFailuresReachTheApplicationAsCacheUnavailable() {
        when(store.evictTag(anyString(), anyLong())).thenThrow(down());
        when(store.evictUrl(anyString(), anyLong())).thenThrow(down());
        RedisCache api = new RedisCache(cache, new CacheStatistics(() -> 0));

        assertThatThrownBy(() -> api.evictTag("t")).isInstanceOf(CacheUnavailableException.class)
                .hasRootCauseInstanceOf(JedisConnectionException.class);
        assertThatThrownBy(() -> api.evictUrl("https://h/p")).isInstanceOf(CacheUnavailableException.class);
    }

    @Test
    void anUnsafeRequestDoesNotAskRedisWhileTheCircuitIsOpen() throws Exception {
        HttpServletResponse response = mock(HttpServletResponse.class);
        when(response.getStatus()).thenReturn(200);
        when(store.evictUrl(anyString(), anyLong())).thenThrow(down());

        cache.handle(post(), response, mock(FilterChain.class));
        verify(store, times(1)).evictUrl(eq("https://h/p"), anyLong());
        cache.handle(post(), response, mock(FilterChain.class));
        verify(store, times(1)).evictUrl(anyString(), anyLong());

        clock.advance(10_000);
        cache.handle(post(), response, mock(FilterChain.class));
        verify(store, times(2)).evictUrl(anyString(), anyLong());
    }

    @Test
    void anUnsafeRequestThatFailedEvictsNothing() throws Exception {
        HttpServletResponse response = mock(HttpServletResponse.class);
        when(response.getStatus()).thenReturn(500);
        cache.handle(post(), response, mock(FilterChain.class));
        verify(store, never()).evictUrl(anyString(), anyLong());
    }
}
