package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Crafted ids and oversized sessions, on two nodes: Redis holds a constant per live session. */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private TomcatNode node1;
    private TomcatNode node2;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        node1 = TomcatNode.start("node1", redis::configure);
        node2 = TomcatNode.start("node2", redis::configure);
    }

    @AfterAll
    void stopNodes() {
        node1.close();
        node2.close();
        redis.close();
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
    }

    @Test
    void routeSuffixesOfOneIdNeverAddSessionsOrIndexEntries_regressionSuffixFloodsTheExpiryIndex() {
        HttpSessionClient owner = new HttpSessionClient();
        owner.ok(node1.url("set?name=a&value=1"));
        String base = SessionKeys.baseId(owner.sessionId());

        for (int i = 1; i <= 50; i++) {
            HttpSessionClient crafted = new HttpSessionClient();
            crafted.sessionId(base + ".r" + i);
            crafted.ok((i % 2 == 0 ? node1 : node2).url("set?name=b&value=" + i));
        }

        assertThat(node1.manager().getActiveSessions()).isEqualTo(1);
        assertThat(redis.client().zrange(redis.indexKey(base), 0, -1)).containsExactly(base);
        assertThat(redis.keys()).containsExactlyInAnyOrder(redis.sessionKey(base), redis.indexKey(base));
        assertThat(owner.ok(node2.url("get?name=b"))).isEqualTo("50");
    }

    @Test
    void sessionOfFourThousandAttributesIsSavedAndReadOnTheOtherNode_regressionLuaUnpackLimit() {
        HttpSessionClient browser = new HttpSessionClient();

        assertThat(browser.ok(node1.url("many?value=4000"))).isEqualTo("4000");

        assertThat(browser.ok(node2.url("count"))).isEqualTo("4000");
        assertThat(browser.ok(node2.url("get?name=attribute-3999"))).isEqualTo("value-3999");
    }

    @Test
    void tomcatsSessionAttributeValueClassNameFilterIsHonouredOnBothNodes() {
        try (TomcatNode strict1 = TomcatNode.start("strict1", m -> {
                redis.configure(m);
                m.setSessionAttributeValueClassNameFilter("java\\.lang\\.String");
            });
             TomcatNode strict2 = TomcatNode.start("strict2", m -> {
                redis.configure(m);
                m.setSessionAttributeValueClassNameFilter("java\\.lang\\.String");
            })) {
            HttpSessionClient browser = new HttpSessionClient();
            browser.ok(strict1.url("set?name=text&value=kept"));
            browser.ok(strict1.url("value-object?name=profile&value=ann"));

            assertThat(browser.ok(strict2.url("get?name=text"))).isEqualTo("kept");
            assertThat(browser.ok(strict2.url("get?name=profile"))).isEqualTo("null");
            assertThat(redis.client().hexists(redis.sessionKey(browser.sessionId()), "attr:profile"))
                    .as("an excluded attribute is never stored").isFalse();
        }
    }
}
