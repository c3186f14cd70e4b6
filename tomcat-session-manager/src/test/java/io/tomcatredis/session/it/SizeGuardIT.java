package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Size guards (issue 16, part 3) on real Redis and Tomcat: {@code maxAttributeBytes} and
 * {@code maxSessionBytes} count the bytes Redis holds (after compression); a value over the limit
 * is not stored and its previous value is removed (another node never reads it as current), with
 * one WARN per attribute per session and the request answered; {@code sizeLimitAction="fail"}
 * answers 500 and stores nothing of the request. Nodes: WARN and FAIL limit attributes to
 * {@value #MAX_ATTRIBUTE} bytes and sessions to {@value #MAX_SESSION}; FREE has no limit.
 */
@Tag("tomcat")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SizeGuardIT {

    static final int MAX_ATTRIBUTE = 1000;
    static final int MAX_SESSION = 3000;

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private RedisUnderTest redis;
    private TomcatNode warn;
    private TomcatNode fail;
    private TomcatNode free;

    @BeforeAll
    void startNodes() {
        redis = RedisUnderTest.standalone(REDIS.get());
        warn = TomcatNode.start("sizeWarn", m -> {
            redis.configure(m);
            m.setProperty("maxAttributeBytes", Integer.toString(MAX_ATTRIBUTE));
            m.setProperty("maxSessionBytes", Integer.toString(MAX_SESSION));
            m.setProperty("compressionThreshold", "64");
        }, SizeGuardIT::pages);
        fail = TomcatNode.start("sizeFail", m -> {
            redis.configure(m);
            m.setProperty("maxAttributeBytes", Integer.toString(MAX_ATTRIBUTE));
            m.setProperty("maxSessionBytes", Integer.toString(MAX_SESSION));
            m.setProperty("sizeLimitAction", "fail");
        }, SizeGuardIT::pages);
        free = TomcatNode.start("sizeFree", redis::configure, SizeGuardIT::pages);
    }

    @AfterAll
    void stopNodes() {
        TomcatNode.closeAll(warn, fail, free);
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.flushAll();
    }

    static void pages(Context context) {
        Tomcat.addServlet(context, "size", new SizeServlet());
        context.addServletMappingDecoded("/z/*", "size");
    }

    /**
     * {@code put?name=&n=&kind=random|repeat}: sets a string of n characters, incompressible or
     * not; {@code put2}: sets {@code small=s} and then {@code big} as {@code put} does, in one request.
     */
    static final class SizeServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            HttpSession session = request.getSession();
            String op = request.getPathInfo().substring(1);
            int n = Integer.parseInt(request.getParameter("n"));
            String value = "repeat".equals(request.getParameter("kind")) ? "r".repeat(n) : random(n);
            if (op.equals("put2")) {
                session.setAttribute("small", "s");
                session.setAttribute("big", value);
            } else {
                session.setAttribute(request.getParameter("name"), value);
            }
            response.setContentType("text/plain");
            response.getWriter().write("ok");
        }

        private static String random(int n) {
            Random random = new Random(n);
            StringBuilder out = new StringBuilder(n);
            for (int i = 0; i < n; i++) {
                out.append((char) ('!' + random.nextInt(90)));
            }
            return out.toString();
        }
    }

    private static String z(TomcatNode node, String path) {
        return node.url("").replace("/app/s/", "/app/z/") + path;
    }

    private byte[] field(HttpSessionClient browser, String field) {
        return redis.client().hget(redis.sessionKey(browser.sessionId()).getBytes(StandardCharsets.UTF_8),
                field.getBytes(StandardCharsets.UTF_8));
    }

    private static long count(String text, String part) {
        return text.lines().filter(line -> line.contains(part)).count();
    }

    /**
     * An attribute over maxAttributeBytes: not stored, its older value removed so another node reads
     * nothing rather than a stale value, one WARN however often it is set, 200, the rest intact.
     */
    @Test
    void anAttributeOverTheLimitIsRemovedWithOneWarnAndTheRequestSucceeds() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(warn.url("set?name=color&value=blue"));
        browser.ok(z(warn, "put?name=report&n=100"));
        assertThat(browser.ok(free.url("get?name=report"))).hasSize(100);
        long skipped = warn.manager().getAttributesTooLarge();
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            for (int i = 0; i < 3; i++) {
                HttpSessionClient.Reply reply = browser.get(z(warn, "put?name=report&n=" + (MAX_ATTRIBUTE + 50 + i)));
                assertThat(reply.status()).isEqualTo(200);
            }
            assertThat(field(browser, "attr:report")).as("the older value is not left as current").isNull();
            assertThat(browser.ok(free.url("get?name=report"))).as("another node").isEqualTo("null");
            assertThat(browser.ok(free.url("get?name=color"))).isEqualTo("blue");
            assertThat(count(log.text(), "Session attribute 'report'")).as("one WARN, not one per request").isEqualTo(1);
            assertThat(log.text()).contains("Session attribute 'report' of session "
                    + browser.sessionId().substring(0, 6) + "…").contains("over maxAttributeBytes (1000)")
                    .doesNotContain(browser.sessionId());
        }
        assertThat(warn.manager().getAttributesTooLarge() - skipped).as("counted in the store's statistics").isEqualTo(3);
        browser.ok(z(warn, "put?name=report&n=200"));
        assertThat(browser.ok(free.url("get?name=report"))).as("a value within the limit again").hasSize(200);
    }

    /** The limit counts what Redis holds: a value compressed below it is stored, whatever its size in memory. */
    @Test
    void compressedValuesCountByTheirStoredSize() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(z(warn, "put?name=text&n=20000&kind=repeat"));
        assertThat(field(browser, "attr:text").length).isLessThan(MAX_ATTRIBUTE);
        assertThat(browser.ok(free.url("get?name=text"))).hasSize(20000);
    }

    /** Over maxSessionBytes, the largest attribute the request changed goes first; the rest is stored. */
    @Test
    void overTheSessionLimitTheLargestChangedAttributeIsNotStored() {
        HttpSessionClient browser = new HttpSessionClient();
        for (String name : new String[] {"a", "b", "c"}) {
            browser.ok(z(warn, "put?name=" + name + "&n=900"));
        }
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            browser.ok(z(warn, "put2?n=500"));
            assertThat(log.text()).contains("Session attribute 'big'")
                    .contains("the session's attributes would be over maxSessionBytes (3000)");
        }
        assertThat(browser.ok(free.url("get?name=big"))).isEqualTo("null");
        assertThat(browser.ok(free.url("get?name=small"))).isEqualTo("s");
        assertThat(browser.ok(free.url("get?name=a"))).hasSize(900);
    }

    /** sizeLimitAction="fail": 500, and nothing the request changed is stored. */
    @Test
    void failModeAnswers500AndStoresNothingOfTheRequest() {
        HttpSessionClient browser = new HttpSessionClient();
        browser.ok(fail.url("set?name=color&value=blue"));
        try (CapturedLog log = CapturedLog.of("io.tomcatredis")) {
            HttpSessionClient.Reply reply = browser.get(z(fail, "put2?n=" + (MAX_ATTRIBUTE + 1)));
            assertThat(reply.status()).isEqualTo(500);
            assertThat(log.text()).contains("Session attribute 'big'").contains("over maxAttributeBytes (1000)")
                    .contains("nothing of this request's session changes was saved");
        }
        assertThat(browser.ok(free.url("get?name=small"))).isEqualTo("null");
        assertThat(browser.ok(free.url("get?name=big"))).isEqualTo("null");
        assertThat(browser.ok(free.url("get?name=color"))).isEqualTo("blue");
        assertThat(browser.get(z(fail, "put2?n=100")).status()).as("within the limit").isEqualTo(200);
        assertThat(browser.ok(free.url("get?name=small"))).isEqualTo("s");
    }

    @Test
    void badSizeSettingsStopTheContext() {
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.start("sizeBad", m -> {
                redis.configure(m);
                m.setProperty("sizeLimitAction", "reject");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(log.text()).contains("Invalid value for attribute 'sizeLimitAction': \"reject\" is not one of"
                    + " warn, fail");
        }
    }
}
