package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * Fuzzes the whole session id path (issue 11): Cookie headers with one or many {@code JSESSIONID}
 * cookies, {@code ;jsessionid=} path parameters, odd lengths, percent-encodings and route
 * suffixes, against two embedded Tomcats on one real Redis that holds one victim's session.
 * Properties of every request:
 * <ul>
 * <li>no server error (5xx other than a deliberate 503) and no hang ({@value #REQUEST_TIMEOUT_MILLIS} ms);</li>
 * <li>no Redis key but those of sessions the server itself issued in its reply;</li>
 * <li>the victim's attribute only for a request that carries the victim's exact base id.</li>
 * </ul>
 *
 * <p>An input is text (ISO-8859-1), so seeds under {@code SessionIdFuzzerInputs/} stay readable:
 * the first line picks the node ({@code 1}/{@code 2}) and the operation of {@link SessionServlet};
 * each further line is a Cookie header ({@code C:...}), path parameters ({@code P:...}), or else one
 * {@code JSESSIONID} cookie value. {@code $V} stands for the victim's base id, {@code $L} for it in lower
 * case, {@code $X} for it with its last character changed, {@code $R} for its route suffix. Runs in regression mode (the seeds) in every build and fuzzes with
 * {@code JAZZER_FUZZ=1} in its own surefire execution (group {@code fuzz-session-ids}).
 */
@Tag("fuzz-session-ids")
class SessionIdFuzzer {

    static final int REQUEST_TIMEOUT_MILLIS = 10_000;
    private static final int MAX_HEADER_CHARS = 48 * 1024;
    private static final List<String> OPERATIONS = List.of("get?name=secret", "set?name=other&value=1", "id",
            "names", "none", "create", "secure/whoami");
    /** A session id value as Tomcat delimits it in a cookie or a path parameter. */
    private static final Pattern SESSION_ID_VALUE = Pattern.compile("(?i)jsessionid\\s*=\\s*\"?([^;,/?\\s\"]*)");

    private static StandaloneRedis redisServer;
    private static RedisUnderTest redis;
    private static TomcatNode node1;
    private static TomcatNode node2;
    private static String victimBase;
    private static String victimRoute;
    private static String secret;
    private static Set<String> victimKeys;

    @BeforeAll
    static void startNodes() {
        redisServer = StandaloneRedis.start();
        redis = RedisUnderTest.standalone(redisServer);
        node1 = TomcatNode.start("node1", redis::configure);
        node2 = TomcatNode.start("node2", redis::configure);
        secret = "secret-" + UUID.randomUUID();
        HttpSessionClient victim = new HttpSessionClient();
        victim.ok(node1.url("set?name=secret&value=" + secret));
        victimBase = SessionKeys.baseId(victim.sessionId());
        victimRoute = victim.sessionId().substring(victimBase.length());
        victimKeys = Set.of(redis.sessionKey(victimBase), redis.indexKey(victimBase));
        assertThat(redis.keys()).isEqualTo(victimKeys);
    }

    @AfterAll
    static void stopNodes() {
        if (node1 != null) {
            node1.close();
        }
        if (node2 != null) {
            node2.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (redisServer != null) {
            redisServer.close();
        }
    }

    @FuzzTest(maxDuration = "15s")
    void idPath(byte[] input) {
        // Jazzer reports every connection as a possible SSRF; these tests talk to Redis and Tomcat on
        // loopback. (Its agent is installed after @BeforeAll, so this is set here.)
        BugDetectors.allowNetworkConnections((host, port) -> host.equals("localhost") || host.equals("127.0.0.1"));
        String[] lines = new String(input, StandardCharsets.ISO_8859_1).replace("$V", victimBase)
                .replace("$L", victimBase.toLowerCase(Locale.ROOT)).replace("$X", neighbourOfVictim())
                .replace("$R", victimRoute).replace("\r", "").split("\n", -1);
        String first = lines[0];
        TomcatNode node = first.startsWith("2") ? node2 : node1;
        String operation = OPERATIONS.get(Math.floorMod(first.hashCode(), OPERATIONS.size()));
        for (String op : OPERATIONS) {
            if (first.contains(op.replaceAll("\\?.*", ""))) {
                operation = op;
                break;
            }
        }
        StringBuilder pathParameters = new StringBuilder();
        List<String> cookieLines = new ArrayList<>();
        StringBuilder cookies = new StringBuilder();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith("C:")) {
                cookieLines.add(line.substring(2));
            } else if (line.startsWith("P:")) {
                pathParameters.append(line.substring(2).replace(' ', '+').replace("?", "%3F").replace("#", "%23"));
            } else {
                cookies.append(cookies.isEmpty() ? "" : "; ").append("JSESSIONID=").append(line);
            }
        }
        if (!cookies.isEmpty()) {
            cookieLines.add(cookies.toString());
        }
        if (cookieLines.stream().mapToInt(String::length).sum() + pathParameters.length() > MAX_HEADER_CHARS) {
            return;
        }
        String path = operation.contains("?") ? operation.substring(0, operation.indexOf('?')) : operation;
        String query = operation.contains("?") ? operation.substring(operation.indexOf('?')) : "";
        String target = "/app/s/" + path + pathParameters + query;

        RawHttp.Reply reply = RawHttp.get(node.port(), target, cookieLines, REQUEST_TIMEOUT_MILLIS);

        String request = target + " " + cookieLines;
        assertThat(reply.status()).as("status of %s: %s", request, reply.body())
                .satisfiesAnyOf(status -> assertThat(status).isLessThan(500), status -> assertThat(status).isEqualTo(503));
        if (!carriesVictimId(target, cookieLines)) {
            assertThat(reply.body()).as("cross-session read by %s", request).doesNotContain(secret);
        }
        Set<String> allowed = new HashSet<>(victimKeys);
        for (String issued : reply.issuedSessionIds()) {
            allowed.add(redis.sessionKey(issued));
        }
        Set<String> keys = redis.keys();
        assertThat(allowed).as("Redis keys after %s", request).containsAll(keys);
        forgetIssuedSessions(reply.issuedSessionIds());
    }

    /** The victim's base id with its last character changed: well-formed, never issued. */
    private static String neighbourOfVictim() {
        char last = victimBase.charAt(victimBase.length() - 1);
        return victimBase.substring(0, victimBase.length() - 1) + (last == '0' ? '1' : '0');
    }

    /** Whether a {@code jsessionid=} value of the request, raw or percent-decoded, has the victim's base id. */
    private static boolean carriesVictimId(String target, List<String> cookieLines) {
        List<String> texts = new ArrayList<>(cookieLines);
        texts.add(target);
        for (String text : List.copyOf(texts)) {
            try {
                texts.add(URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                // Not percent-decodable: Tomcat answers 400 or uses the raw text.
            }
        }
        for (String text : texts) {
            Matcher matcher = SESSION_ID_VALUE.matcher(text);
            while (matcher.find()) {
                if (SessionKeys.baseId(matcher.group(1)).equals(victimBase)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Keeps Redis at the victim's keys: sessions the server legitimately issued are removed. */
    private static void forgetIssuedSessions(List<String> issued) {
        for (String id : issued) {
            String base = SessionKeys.baseId(id);
            if (!base.equals(victimBase)) {
                redis.client().del(redis.sessionKey(base));
                redis.client().zrem(redis.indexKey(base), base);
            }
        }
        assertThat(redis.client().zrange(redis.indexKey(victimBase), 0, -1)).containsExactly(victimBase);
    }
}
