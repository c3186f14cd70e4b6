package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * No log line of the filter names a session id (issue 11), also for requests that carry one in a
 * cookie and as a {@code ;jsessionid=} path parameter while Redis fails.
 */
class CacheLogsIT {

    private static final String SESSION_ID = "0123456789ABCDEF0123456789ABCDEF";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    @Test
    void noLogLineNamesTheSessionIdOfARequest() {
        List<String> messages = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                StringBuilder text = new StringBuilder(String.valueOf(record.getMessage()));
                for (Throwable t = record.getThrown(); t != null && t.getCause() != t; t = t.getCause()) {
                    text.append(" | ").append(t);
                }
                messages.add(text.toString());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger ours = Logger.getLogger("io.tomcatredis.cache");
        Level previous = ours.getLevel();
        ours.setLevel(Level.ALL);
        ours.addHandler(handler);
        try (CacheNode node = CacheNode.start("logs", Map.of("redisUri", REDIS.get().uri(), "include",
                "/catalog/* 60", "allowedHosts", "127.0.0.1, localhost", "timeoutMillis", "300",
                "circuitBreakerMillis", "200"))) {
            REDIS.get().node().pause();
            try {
                // A cacheable request first: its lookup fails and opens the circuit, with a warning.
                assertThat(Http.rawGet(node.port(), "/shop/catalog/page?id=0", "127.0.0.1")).startsWith("HTTP/1.1 200");
                for (String path : List.of("/shop/catalog/page;jsessionid=" + SESSION_ID + "?id=1",
                        "/shop/catalog/page;jsessionid=" + SESSION_ID + ".node1")) {
                    assertThat(Http.rawGet(node.port(), path, "127.0.0.1", "Cookie: JSESSIONID=" + SESSION_ID))
                            .startsWith("HTTP/1.1 200");
                }
            } finally {
                REDIS.get().node().resume();
            }
        } finally {
            ours.removeHandler(handler);
            ours.setLevel(previous);
        }
        assertThat(String.join("\n", messages)).contains("Redis failed");
        assertThat(messages).allSatisfy(message -> assertThat(message).doesNotContain(SESSION_ID));
    }
}
