package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A full session id in a log file lets its reader take over the session (issue 11): no log line
 * of the manager or the store names one, nor a Redis key holding one, nor an attribute value,
 * whichever path logs (debug level included).
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionLogsIT {

    private static final String VALUE = "attribute-value-that-must-not-be-logged";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private TomcatNode node;
    private Logger ours;
    private Level previousLevel;

    @BeforeAll
    void startNode() {
        redis = RedisUnderTest.standalone(REDIS.get());
        node = TomcatNode.start("logs", m -> {
            redis.configure(m);
            m.setTimeoutMillis("500");
        });
        ours = Logger.getLogger("io.tomcatredis");
        previousLevel = ours.getLevel();
        ours.setLevel(Level.ALL);
    }

    @AfterAll
    void stopNode() {
        ours.setLevel(previousLevel);
        node.close();
        redis.close();
    }

    @Test
    void noLogLineNamesAFullSessionIdAKeyOrAnAttributeValue() throws Exception {
        HttpSessionClient browser = new HttpSessionClient();
        String base;
        String key;
        List<String> messages;
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            browser.ok(node.url("set?name=a&value=" + VALUE));
            base = SessionKeys.baseId(browser.sessionId());
            key = redis.sessionKey(base);

            // Corrupt attribute: dropped with a warning.
            redis.client().hset(key.getBytes(StandardCharsets.UTF_8), "attr:corrupt".getBytes(StandardCharsets.UTF_8),
                    (VALUE + "\u0000\u00ff").getBytes(StandardCharsets.ISO_8859_1));
            browser.ok(node.url("get?name=corrupt"));
            // Unserializable attribute: not stored, with a warning.
            browser.ok(node.url("unserializable?name=thread"));
            // A save that finds the session gone: the changes are lost, with a warning.
            lostSave(browser, key);
            // A key of another type, a hash without creation time: treated as absent, with a warning.
            HttpSessionClient other = new HttpSessionClient();
            other.ok(node.url("set?name=a&value=" + VALUE));
            redis.client().del(redis.sessionKey(other.sessionId()));
            redis.client().set(redis.sessionKey(other.sessionId()), VALUE);
            other.get(node.url("get?name=a"));
            HttpSessionClient third = new HttpSessionClient();
            third.ok(node.url("set?name=a&value=" + VALUE));
            redis.client().hdel(redis.sessionKey(third.sessionId()), "meta:creationTime");
            third.get(node.url("get?name=a"));

            // Redis frozen: 503 for a URL carrying the id as a path parameter, and the sweep postponed.
            browser.ok(node.url("set?name=a&value=" + VALUE));
            redis.pauseMasters();
            try {
                String target = "/app/s/get;jsessionid=" + browser.sessionId() + "?name=a";
                assertThat(RawHttp.get(node.port(), target, List.of("JSESSIONID=" + browser.sessionId()), 10_000)
                        .status()).isEqualTo(503);
                node.manager().processExpires();
            } finally {
                redis.resumeMasters();
            }
            messages = log.messages();
            assertThat(log.text()).contains("Dropping session attribute 'corrupt'", "Session attribute 'thread'",
                    "were not saved", "is not a hash", "has no valid meta:creationTime", "Answering 503",
                    "is postponed");
            List<String> ids = List.of(base, SessionKeys.baseId(browser.sessionId()),
                    SessionKeys.baseId(other.sessionId()), SessionKeys.baseId(third.sessionId()));
            for (String message : messages) {
                assertThat(message).doesNotContain(ids).doesNotContain(VALUE);
            }
        }
    }

    /** Deletes the session while a request that changes it is in flight. */
    private void lostSave(HttpSessionClient browser, String key) throws Exception {
        CountDownLatch latch = new CountDownLatch(2);
        SessionServlet.BARRIERS.put("lost", latch);
        CompletableFuture<HttpSessionClient.Reply> inFlight = CompletableFuture.supplyAsync(
                () -> browser.get(node.url("set?name=b&value=" + VALUE + "&barrier=lost")));
        io.tomcatredis.testsupport.Await.until(java.time.Duration.ofSeconds(10), "the request at its barrier",
                () -> latch.getCount() == 1);
        redis.client().del(key);
        latch.countDown();
        inFlight.get();
    }
}
