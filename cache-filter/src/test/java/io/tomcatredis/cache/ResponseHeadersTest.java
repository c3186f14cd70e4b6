package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.catalina.connector.Response;
import org.apache.tomcat.util.http.MimeHeaders;
import org.junit.jupiter.api.Test;

/**
 * Header lines as the container keeps them, replayed over what a filter ahead set: checked against
 * Tomcat's own response, lines and their order compared, for set/add sequences a filter ahead and
 * an application may produce.
 */
class ResponseHeadersTest {

    private static final String[] NAMES = {"X-Frame-Options", "x-frame-options", "Cache-Control", "Vary", "X-A"};

    /** What one header call does, to a Tomcat response and to the held-back lines. */
    private record Call(String name, String value, boolean set) {
        void onTomcat(Response response) {
            if (set) {
                response.setHeader(name, value);
            } else {
                response.addHeader(name, value);
            }
        }

        void onHeld(ResponseHeaders headers) {
            if (set) {
                headers.set(name, value);
            } else {
                headers.add(name, value);
            }
        }
    }

    private static Response tomcat() {
        return new Response(new org.apache.coyote.Response());
    }

    private static List<String> lines(Response response) {
        MimeHeaders headers = response.getCoyoteResponse().getMimeHeaders();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < headers.size(); i++) {
            lines.add(headers.getName(i) + ": " + headers.getValue(i));
        }
        return lines;
    }

    /** The lines without the cache (everything on one response) and with it (ahead, then the replay). */
    private static void assertReplayedAsWithoutTheCache(List<Call> ahead, List<Call> application) {
        Response uncached = tomcat();
        ahead.forEach(call -> call.onTomcat(uncached));
        application.forEach(call -> call.onTomcat(uncached));

        ResponseHeaders held = new ResponseHeaders();
        application.forEach(call -> call.onHeld(held));
        Response replayed = tomcat();
        ahead.forEach(call -> call.onTomcat(replayed));
        ResponseHeaders.replay(held.lines(), held.replaced(), held.removed(), replayed);

        assertThat(lines(replayed)).as("ahead %s, application %s", ahead, application)
                .isEqualTo(lines(uncached));
    }

    @Test
    void aHeaderSetAheadAndReplacedByTheApplicationIsSentOnceWithTheApplicationsValue() {
        List<Call> ahead = List.of(new Call("X-Frame-Options", "DENY", true));
        List<Call> application = List.of(new Call("X-Frame-Options", "SAMEORIGIN", true));
        assertReplayedAsWithoutTheCache(ahead, application);

        ResponseHeaders held = new ResponseHeaders();
        application.forEach(call -> call.onHeld(held));
        Response replayed = tomcat();
        ahead.forEach(call -> call.onTomcat(replayed));
        ResponseHeaders.replay(held.lines(), held.replaced(), held.removed(), replayed);
        assertThat(lines(replayed)).containsExactly("X-Frame-Options: SAMEORIGIN");
    }

    @Test
    void aHeaderAddedNextToOneSetAheadKeepsBoth() {
        assertReplayedAsWithoutTheCache(List.of(new Call("Vary", "Accept-Language", true)),
                List.of(new Call("Vary", "X-Theme", false)));
    }

    @Test
    void aHeaderTheApplicationRemovesIsRemovedAlsoWhenAFilterAheadSetItAgain() {
        assertReplayedAsWithoutTheCache(List.of(new Call("Cache-Control", "public, max-age=60", false)),
                List.of(new Call("X-A", "1", false), new Call("cache-control", null, true)));
    }

    @Test
    void theValuesTheApplicationSeesAreThoseTheClientGets() {
        ResponseHeaders held = new ResponseHeaders();
        held.add("Cache-Control", "max-age=5");
        assertThat(held.values("cache-control", List.of("public"))).containsExactly("public", "max-age=5");
        held.set("CACHE-CONTROL", "private");
        assertThat(held.values("Cache-Control", List.of("public"))).containsExactly("private");
        assertThat(held.lines()).containsExactly(new CachedResponse.Header("Cache-Control", "private"));
        assertThat(held.names(List.of("cache-control", "X-Ahead"))).containsExactly("cache-control", "X-Ahead");
        held.set("Cache-Control", null);
        assertThat(held.values("Cache-Control", List.of("public"))).isEmpty();
        assertThat(held.names(List.of("Cache-Control", "X-Ahead"))).containsExactly("X-Ahead");
        assertThat(held.replaced()).containsExactly("cache-control");
    }

    @Test
    void randomSequencesOfSetsAndAddsAheadAndInTheApplicationAreReplayedLineForLine() {
        Random random = new Random(13);
        for (int round = 0; round < 3000; round++) {
            assertReplayedAsWithoutTheCache(calls(random, random.nextInt(4), false),
                    calls(random, 1 + random.nextInt(6), true));
        }
    }

    private static List<Call> calls(Random random, int count, boolean mayRemove) {
        List<Call> calls = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String name = NAMES[random.nextInt(NAMES.length)];
            boolean set = random.nextBoolean();
            String value = set && mayRemove && random.nextInt(6) == 0 ? null : "v" + random.nextInt(100);
            calls.add(new Call(name, value, set));
        }
        return calls;
    }
}
