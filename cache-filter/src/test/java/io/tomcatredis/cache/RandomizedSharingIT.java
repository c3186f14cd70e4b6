package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 13, "done when": 12,000 requests mixing users (session cookie, bearer token), analytics
 * cookies, basic credentials, locales, hosts, encoded and dotted paths and session ids in URLs
 * over two nodes, from 8 threads on keep-alive connections. Every page prints whom and what it
 * was rendered for ({@link FingerprintServlet}); every response must match the client that got
 * it. The seed is printed, and fixed by {@code -Dcache.fuzz.seed=...}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RandomizedSharingIT {

    private static final int REQUESTS = 12_000;
    private static final int THREADS = 8;
    private static final String[] USERS = {"alice", "bob", "carol"};
    private static final String[] LANGUAGES = {null, "de", "fr", "en-US", "ja"};
    private static final String[] HOSTS = {"127.0.0.1", "127.0.0.1", "localhost", "localhost", "LOCALHOST"};

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private final List<CacheNode> nodes = new ArrayList<>();
    /** Per node: session ids valid there (cookies are off: URL session tracking). */
    private final List<List<String>> sessions = new ArrayList<>();

    @BeforeAll
    void start() {
        Map<String, String> params = Map.of("redisUri", REDIS.get().uri(), "include", "/catalog/* 60",
                "allowedHosts", "127.0.0.1, localhost", "ignoredCookies", "_ga*");
        for (String name : new String[] {"fuzz1", "fuzz2"}) {
            CacheNode node = CacheNode.start(name, params, context -> {
                CacheSafetyIT.applicationAhead(context);
                Tomcat.addServlet(context, "fingerprint", new FingerprintServlet());
                context.addServletMappingDecoded("/catalog/r/*", "fingerprint", false);
            });
            nodes.add(node);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                ids.add(Http.get(node.url("/session/login?user=u" + i)).text().substring("logged in ".length()));
            }
            sessions.add(ids);
        }
    }

    @AfterAll
    void stop() {
        nodes.forEach(CacheNode::close);
    }

    /** What one client sends, and so what its page must say. */
    private record Client(String user, String cookie, String authorization, String language, String host,
            int sessionNode, String sessionId) {

        List<String> headerLines() {
            List<String> lines = new ArrayList<>();
            if (cookie != null) {
                lines.add("Cookie: " + cookie);
            }
            if (authorization != null) {
                lines.add("Authorization: " + authorization);
            }
            if (language != null) {
                lines.add("Accept-Language: " + language);
            }
            return lines;
        }
    }

    @Test
    void noResponseIsServedToAClientOtherThanTheOneItWasRenderedFor() throws Exception {
        long seed = Long.getLong("cache.fuzz.seed", System.nanoTime());
        Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        long started = System.nanoTime();
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            Random random = new Random(seed + t);
            work.add(pool.submit(() -> {
                List<KeepAliveClient> connections = nodes.stream().map(n -> new KeepAliveClient(n.port())).toList();
                try {
                    for (int i = 0; i < REQUESTS / THREADS; i++) {
                        int node = random.nextInt(2);
                        Client client = client(random);
                        String page = "/catalog/r/" + "abcdef".charAt(random.nextInt(6)) + "/" + random.nextInt(8);
                        String query = random.nextInt(4) == 0 ? "q=" + random.nextInt(3) : null;
                        String raw = rawPath(page, client, random) + (query == null ? "" : "?" + query);
                        KeepAliveClient.Response response = connections.get(node).get(raw, client.host(),
                                client.headerLines());
                        outcomes.computeIfAbsent(response.header("X-Cache") + "", k -> new AtomicInteger())
                                .incrementAndGet();
                        String problem = check(response, client, node, page, query, raw);
                        if (problem != null) {
                            wrong.add(problem + " <- node " + node + " GET " + raw + " " + client + " X-Cache "
                                    + response.header("X-Cache"));
                        }
                    }
                } finally {
                    connections.forEach(KeepAliveClient::close);
                }
            }));
        }
        for (Future<?> future : work) {
            future.get();
        }
        pool.shutdown();
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("Randomized sharing (seed %d): %d requests over 2 nodes in %d ms, outcomes %s,"
                + " %d served to the wrong client%n", seed, REQUESTS, millis, outcomes, wrong.size());

        assertThat(wrong).as("responses not rendered for the client that got them (seed " + seed + ")").isEmpty();
        assertThat(outcomes.getOrDefault("HIT", new AtomicInteger()).get())
                .as("the cache served hits, so sharing was really exercised").isGreaterThan(REQUESTS / 10);
    }

    private Client client(Random random) {
        String language = LANGUAGES[random.nextInt(LANGUAGES.length)];
        String host = HOSTS[random.nextInt(HOSTS.length)];
        String user = USERS[random.nextInt(USERS.length)];
        return switch (random.nextInt(7)) {
            case 0, 1 -> new Client("guest", null, null, language, host, -1, null);
            case 2 -> new Client("guest", "_ga=GA1.2." + random.nextInt(1000), null, language, host, -1, null);
            case 3 -> new Client(user, "SESSION=" + user + (random.nextBoolean() ? "; _ga=GA1" : ""), null, language,
                    host, -1, null);
            case 4 -> new Client(user, null, "Bearer " + user, language, host, -1, null);
            case 5 -> new Client("guest", null, "Basic dTpw", language, host, -1, null);
            default -> {
                int sessionNode = random.nextInt(2);
                yield new Client("guest", null, null, language, host, sessionNode,
                        sessions.get(sessionNode).get(random.nextInt(2)));
            }
        };
    }

    /** The page's path as sent: canonical, or encoded, dotted, doubled or with a path parameter. */
    private static String rawPath(String page, Client client, Random random) {
        String path = "/shop" + page;
        path = switch (random.nextInt(10)) {
            case 0 -> path.replace("/r/", "/%72/");
            case 1 -> path.replace("/r/", "/r/./");
            case 2 -> path.replace("/r/", "/x/../r/");
            case 3 -> path.replace("/r/", "/r//");
            default -> path;
        };
        if (client.sessionId() != null) {
            path += ";jsessionid=" + client.sessionId();
        }
        return path;
    }

    /** Why the page was not rendered for this client, or null when it was. */
    private static String check(KeepAliveClient.Response response, Client client, int node, String page,
            String query, String raw) {
        if (response.status() != 200) {
            return "status " + response.status();
        }
        String text = response.text();
        if (!text.startsWith("for ")) {
            return "unexpected body " + text;
        }
        Map<String, String> fields = new HashMap<>();
        for (String field : text.substring(4).trim().split(" \\| ", -1)) {
            int equals = field.indexOf('=');
            fields.put(field.substring(0, equals), field.substring(equals + 1));
        }
        Map<String, String> expected = new HashMap<>();
        expected.put("path", page);
        expected.put("user", client.user());
        expected.put("host", client.host());
        expected.put("query", String.valueOf(query));
        expected.put("locale", client.language() == null ? Locale.getDefault().toString()
                : Locale.forLanguageTag(client.language()).toString());
        expected.put("lang", String.valueOf(client.language()));
        boolean validSession = client.sessionId() != null && client.sessionNode() == node;
        expected.put("link", "/shop" + page + "/next" + (validSession ? ";jsessionid=" + client.sessionId() : ""));
        String sentPath = raw.contains("?") ? raw.substring(0, raw.indexOf('?')) : raw;
        for (Map.Entry<String, String> field : fields.entrySet()) {
            String want = expected.get(field.getKey());
            if (field.getKey().equals("uri")) {
                if (!field.getValue().equals(sentPath)
                        && !field.getValue().equals(sentPath.replaceAll(";jsessionid=[^/;?]*", ""))) {
                    return "uri " + field.getValue() + " but sent " + sentPath;
                }
            } else if (!field.getValue().equals(want)) {
                return field.getKey() + " " + field.getValue() + " but the client is " + want;
            }
        }
        return null;
    }
}
