package io.tomcatredis.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 16 part 5: the real Tomcat 11 distribution serving every request on a virtual thread
 * ({@code StandardVirtualThreadExecutor}) on the newest JDK installed, two instances on one Redis,
 * a Redis pool much smaller than the number of requests in flight. Sessions move between the
 * instances and survive a restart, a burst of visitors all keep their own data, and a flight
 * recording of every pinned virtual thread (threshold 0) names none of Jedis', commons-pool's or
 * ours.
 */
class VirtualThreadsIT {

    private static final String PASSWORD = "virtual-threads-secret";
    private static final String CACHE_PASSWORD = "cache-secret";
    private static final int POOL = 4;
    private static final int VISITORS = 120;
    /** JFR frames that would mean the Redis path pinned a carrier thread. */
    private static final Pattern OUR_FRAMES = Pattern.compile("io\\.tomcatredis|redis\\.clients|org\\.apache\\.commons\\.pool2");

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone(RedisOptions.DEFAULTS
            .withShippedConf(ProjectConf.aclFileWithPasswords(Map.of("tomcat-session", PASSWORD, "tomcat-cache",
                    CACHE_PASSWORD)), "admin", "harness-admin-secret"));

    private static Path jdk;

    @BeforeAll
    static void newestJdk() {
        jdk = NewestJdk.atLeast(21);
    }

    @Test
    void tomcat11OnVirtualThreadsSharesSessionsAndNeverPinsACarrierInTheRedisPath() throws Exception {
        Path home = TomcatInstance.home(System.getProperty("tomcat11.dist.version"));
        String redisUri = "redis://tomcat-session:" + PASSWORD + "@" + REDIS.get().node().host() + ":"
                + REDIS.get().node().port();
        String cacheRedisUri = "redis://tomcat-cache:" + CACHE_PASSWORD + "@" + REDIS.get().node().host() + ":"
                + REDIS.get().node().port();
        try (TomcatInstance one = virtual(TomcatInstance.create(home, "vt1", redisUri, cacheRedisUri));
             TomcatInstance two = virtual(TomcatInstance.create(home, "vt2", redisUri, cacheRedisUri))) {
            one.start();
            two.start();

            assertThat(new Browserless().get(one.url("/vt/thread.jsp"))).as("the request's thread")
                    .startsWith("200").contains("VirtualThread[");

            Browserless visitor = new Browserless();
            assertThat(visitor.post(one.url("/shop/login"), Map.of("name", "Ada Lovelace", "email", "ada@example.com",
                    "phone", "1")).substring(0, 3)).isEqualTo("302");
            visitor.post(two.url("/shop/cart"), Map.of("id", "p-2"));
            one.restart();
            assertThat(visitor.get(one.url("/shop/account"))).startsWith("200").contains("Ada Lovelace")
                    .contains("Pour-over kettle");

            Browserless examples = new Browserless();
            examples.get(one.url("/examples/servlets/servlet/SessionExample?dataname=color&datavalue=green"));
            assertThat(examples.get(two.url("/examples/servlets/servlet/SessionExample"))).contains("color = green");

            burstOfVisitorsKeepTheirOwnData(one, two);

            assertThat(one.log("catalina") + two.log("catalina")).doesNotContain("SEVERE")
                    .doesNotContain("Exception");
            one.stop();
            two.stop();
            for (TomcatInstance node : List.of(one, two)) {
                List<String> pinned = pinnedInTheRedisPath(pinnedEvents(node.base().resolve("logs/pinned.jfr")));
                assertThat(pinned).as("virtual threads pinned in the Redis path on %s", node.base()).isEmpty();
            }
        }
    }

    /** The filter of the pinned events, on events as {@code jfr print} writes them (the first three seen in runs here). */
    @Test
    void pinsOfClassLoadingAreLeftOutAndWaitsOrMonitorsOfTheRedisPathAreNot() {
        String classLoading = """
                jdk.VirtualThreadPinned {
                  blockingOperation = "Contended monitor enter"
                  pinnedReason = "Freeze or preempt failed (2)"
                  stackTrace = [
                    java.lang.ClassLoader.loadClass(String, boolean) line: 537
                    io.tomcatredis.session.RedisSessions.of(HttpSession) line: 146
                  ]
                }
                jdk.VirtualThreadPinned {
                  blockingOperation = "Contended monitor enter"
                  pinnedReason = "Freeze or preempt failed (2)"
                  stackTrace = [
                    org.apache.catalina.core.ApplicationSessionCookieConfig.createSessionCookie(Context, String, boolean) line: 208
                    io.tomcatredis.session.RedisSessionManager.createSession(String) line: 272
                  ]
                }
                jdk.VirtualThreadPinned {
                  blockingOperation = "Object.wait"
                  pinnedReason = "Waited for initialization of jakarta.servlet.http.Cookie by another thread"
                  stackTrace = [
                    org.apache.catalina.core.ApplicationSessionCookieConfig.createSessionCookie(Context, String, boolean) line: 208
                    io.tomcatredis.session.RedisSessionValve.invoke(Request, Response) line: 30
                  ]
                }
                """;
        String poolWait = """
                jdk.VirtualThreadPinned {
                  blockingOperation = "Object.wait"
                  pinnedReason = "Native or VM frame on stack"
                  stackTrace = [
                    java.lang.Object.wait0(long)
                    org.apache.commons.pool2.impl.GenericObjectPool.create(Duration) line: 571
                  ]
                }
                """;
        String ourMonitor = """
                jdk.VirtualThreadPinned {
                  blockingOperation = "Contended monitor enter"
                  pinnedReason = "Native or VM frame on stack"
                  stackTrace = [
                    io.tomcatredis.connection.RedisClientHolder.awaitOpen() line: 172
                  ]
                }
                """;
        assertThat(pinnedInTheRedisPath(classLoading)).isEmpty();
        assertThat(pinnedInTheRedisPath(classLoading + poolWait + ourMonitor)).hasSize(2);
    }

    /**
     * {@value #VISITORS} visitors at once, each signing in on one node and reading and adding to its
     * cart on the other, through a pool of {@value #POOL} Redis connections per webapp: requests
     * wait for a connection (timeoutMillis bounds the wait), none fails, none sees another's data.
     */
    private static void burstOfVisitorsKeepTheirOwnData(TomcatInstance one, TomcatInstance two) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(VISITORS);
        try {
            List<Future<String>> accounts = new ArrayList<>();
            for (int i = 0; i < VISITORS; i++) {
                TomcatInstance first = i % 2 == 0 ? one : two;
                TomcatInstance second = i % 2 == 0 ? two : one;
                String name = "Visitor " + i;
                accounts.add(clients.submit(() -> {
                    Browserless visitor = new Browserless();
                    String login = visitor.post(first.url("/shop/login"), Map.of("name", name, "email",
                            "v@example.com", "phone", "2"));
                    assertThat(login).as(name).startsWith("302");
                    assertThat(visitor.post(second.url("/shop/cart"), Map.of("id", "p-3"))).as(name).startsWith("30");
                    return visitor.get(first.url("/shop/account"));
                }));
            }
            for (int i = 0; i < VISITORS; i++) {
                String account = accounts.get(i).get(120, TimeUnit.SECONDS);
                assertThat(account).as("visitor %d", i).startsWith("200").contains("Visitor " + i + "<")
                        .contains("Hand grinder");
            }
        } finally {
            clients.shutdownNow();
        }
    }

    private static TomcatInstance virtual(TomcatInstance node) throws IOException {
        Path webapp = node.base().resolve("webapps/vt");
        Files.createDirectories(webapp);
        Files.writeString(webapp.resolve("thread.jsp"),
                "<%@ page session=\"false\" contentType=\"text/plain\" %><%= Thread.currentThread() %>");
        return node.onJava(jdk).withVirtualThreads()
                .withContextXml(xml -> xml.replace("timeoutMillis=\"2000\"",
                        "timeoutMillis=\"10000\" maxConnections=\"" + POOL + "\""))
                .withJavaOptions("-XX:FlightRecorderOptions:stackdepth=512 -XX:StartFlightRecording:filename="
                        + node.base().resolve("logs/pinned.jfr") + ",dumponexit=true,settings=none,"
                        + "+jdk.VirtualThreadPinned#enabled=true,+jdk.VirtualThreadPinned#threshold=0ms,"
                        + "+jdk.VirtualThreadPinned#stackTrace=true");
    }

    /**
     * The pinned events of the Redis path: every one with a frame of Jedis, commons-pool2 or ours on
     * its stack, except those the JVM pins while it loads or initializes a class: any with a class
     * loader's {@code loadClass} on its stack, a monitor entered during class loading or resolution, which it cannot unmount from ({@code "Freeze or preempt
     * failed"}), and a wait for a class another thread initializes ({@code "Waited for
     * initialization of ..."}). JEP 491 (Java 24) left those out on purpose; they happen wherever the
     * first requests of a code path meet under load, whoever's code it is, and no library avoids them.
     */
    static List<String> pinnedInTheRedisPath(String jfrPrint) {
        List<String> found = new ArrayList<>();
        for (String event : jfrPrint.split("(?=jdk\\.VirtualThreadPinned \\{)")) {
            boolean classLoading = event.contains("pinnedReason = \"Freeze or preempt failed")
                    || event.contains("pinnedReason = \"Waited for initialization of") || event.contains(".loadClass(");
            if (OUR_FRAMES.matcher(event).find() && !classLoading) {
                found.add(event);
            }
        }
        return found;
    }

    private static String pinnedEvents(Path recording) throws Exception {
        assertThat(recording).as("the flight recording written at shutdown").exists();
        Process print = new ProcessBuilder(jdk.resolve("bin/jfr").toString(), "print", "--stack-depth", "512",
                "--events", "jdk.VirtualThreadPinned", recording.toString()).redirectErrorStream(true).start();
        String text = new String(print.getInputStream().readAllBytes());
        assertThat(print.waitFor(60, TimeUnit.SECONDS) && print.exitValue() == 0).as(text).isTrue();
        return text;
    }

    /** The newest JDK under /usr/lib/jvm (or {@code -Dvt.javaHome}) of at least a given feature version. */
    static final class NewestJdk {

        private static final Pattern VERSION = Pattern.compile("^JAVA_VERSION=\"(\\d+)", Pattern.MULTILINE);

        static Path atLeast(int feature) {
            String configured = System.getProperty("vt.javaHome");
            Stream<Path> candidates;
            try {
                candidates = configured != null && !configured.isBlank() ? Stream.of(Path.of(configured))
                        : Files.list(Path.of("/usr/lib/jvm")).toList().stream();
            } catch (IOException e) {
                candidates = Stream.empty();
            }
            Optional<Path> newest = candidates.filter(home -> version(home) >= feature)
                    .max(Comparator.comparingInt(NewestJdk::version));
            return newest.orElseThrow(() -> new AssertionError("Virtual threads need a JDK " + feature
                    + "+ and none is under /usr/lib/jvm (Temurin's is there on the CI machines);"
                    + " point -Dvt.javaHome at one"));
        }

        private static int version(Path home) {
            try {
                Matcher matcher = VERSION.matcher(Files.readString(home.resolve("release")));
                return matcher.find() && Files.isExecutable(home.resolve("bin/java"))
                        ? Integer.parseInt(matcher.group(1)) : 0;
            } catch (IOException e) {
                return 0;
            }
        }
    }
}
