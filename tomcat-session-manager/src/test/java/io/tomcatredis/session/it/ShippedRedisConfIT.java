package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.connection.AclCheck;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.session.RedisStore;
import io.tomcatredis.session.store.SessionAcl;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.FreePorts;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.catalina.session.PersistentManager;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * conf/redis-session.conf as shipped requires authentication, and the session manager's user of
 * conf/users.acl ({@code tomcat-session}: the session keyspace, the commands it sends) is enough
 * for the manager, reached through conf/context-standalone.xml with the credentials in
 * {@code tomcatredis.redisUri}; the cache filter's user ({@code tomcat-cache}) cannot touch a
 * session, nor the session user the cache. A user that lacks a permission the manager needs stops
 * the context at startup, with a message naming the user, what it lacks and conf/users.acl. The
 * harness logs in as the file's {@code admin} user, given a password in the test's copy.
 */
@Tag("valkey")
class ShippedRedisConfIT {

    private static final String ADMIN_PASSWORD = "harness-admin-secret";
    /** Percent-encoding in redisUri is documented; make the test need it. */
    private static final String TOMCAT_PASSWORD = "p@ss:w/rd%-" + Long.toHexString(System.nanoTime());
    private static final String CACHE_PASSWORD = "cache-secret";
    private static final String SESSION_KEY = "tomcat-session:localhost/app:{0123456789abcdef}";
    private static final String CACHE_KEY = "tomcat-cache:/app:{cache}e:0123456789abcdef";

    private static RedisOptions shippedConf() {
        return RedisOptions.DEFAULTS.withShippedConf(ProjectConf.aclFileWithPasswords(
                Map.of("tomcat-session", TOMCAT_PASSWORD, "tomcat-cache", CACHE_PASSWORD)), "admin", ADMIN_PASSWORD);
    }

    private static String uri(StandaloneRedis redis, String user, String password) {
        return "redis://" + user + ":" + URLEncoder.encode(password, StandardCharsets.UTF_8) + "@" + redis.node().host()
                + ":" + redis.node().port();
    }

    private static Jedis as(StandaloneRedis redis, String user, String password) {
        Jedis jedis = new Jedis(redis.node().host(), redis.node().port());
        jedis.auth(user, password);
        return jedis;
    }

    @Test
    void shippedConfRefusesClientsThatDoNotLogIn() {
        try (StandaloneRedis redis = StandaloneRedis.start(shippedConf());
             Jedis anonymous = new Jedis(redis.node().host(), redis.node().port())) {
            assertThatThrownBy(anonymous::ping).isInstanceOf(JedisDataException.class).hasMessageStartingWith("NOAUTH");
            assertThatThrownBy(() -> anonymous.set("tomcat-session:localhost/app:{x}", "planted"))
                    .hasMessageStartingWith("NOAUTH");
            assertThatThrownBy(() -> anonymous.auth("")).hasMessageStartingWith("WRONGPASS");
            assertThatThrownBy(() -> anonymous.auth("default", "")).hasMessageStartingWith("WRONGPASS");
            // The shipped file gives no user a password: one not given one by the operator cannot log in.
            assertThatThrownBy(() -> anonymous.auth("replica", "")).hasMessageStartingWith("WRONGPASS");
            assertThatThrownBy(() -> anonymous.auth("sentinel", "")).hasMessageStartingWith("WRONGPASS");
            try (Jedis admin = redis.node().client()) {
                assertThat(admin.exists("tomcat-session:localhost/app:{x}")).isFalse();
            }
        }
    }

    /** Its placeholders make Sentinel refuse to start, rather than run without its passwords. */
    @Test
    void shippedSentinelConfDoesNotStartUntilItsPasswordsAreChosen() throws Exception {
        Path dir = Files.createTempDirectory("shipped-sentinel-");
        try {
            // Sentinel rewrites its file: give it a copy.
            Path copy = Files.copy(ProjectConf.file("sentinel.conf"),
                    dir.resolve("sentinel.conf"));
            Process sentinel = new ProcessBuilder("redis-sentinel", copy.toString(), "--port",
                    Integer.toString(FreePorts.next()))
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            try {
                assertThat(sentinel.waitFor(30, TimeUnit.SECONDS)).as("sentinel exited").isTrue();
                assertThat(sentinel.exitValue()).isNotZero();
                assertThat(new String(sentinel.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                        .contains("FATAL CONFIG FILE ERROR").contains("REPLACE WITH");
            } finally {
                sentinel.destroyForcibly();
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** No silent fallback to a Redis without credentials: the context does not start, and says why. */
    @Test
    @Tag("tomcat")
    void shippedContextFileWithoutTheCredentialsPropertyDoesNotStart() {
        System.clearProperty("tomcatredis.redisUri");
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.startFromContextXml("nocred",
                    ProjectConf.file("context-standalone.xml")).close())
                    .hasMessageContaining("did not start");
            assertThat(log.text()).contains("Invalid value for attribute 'redisUri': refers to the system property"
                    + " tomcatredis.redisUri, which is not set");
        }
    }

    @Test
    @Tag("tomcat")
    void sessionUserRunsTheShippedContextFile() {
        try (StandaloneRedis redis = StandaloneRedis.start(shippedConf())) {
            System.setProperty("tomcatredis.redisUri", uri(redis, "tomcat-session", TOMCAT_PASSWORD));
            try (TomcatNode one = TomcatNode.startFromContextXml("acl1", ProjectConf.file("context-standalone.xml"));
                 TomcatNode two = TomcatNode.startFromContextXml("acl2", ProjectConf.file("context-standalone.xml"))) {
                HttpSessionClient browser = new HttpSessionClient();
                browser.ok(one.url("set?name=color&value=teal"));
                browser.ok(two.url("cart-add?value=apple"));
                browser.ok(two.url("recommend?value=book"));
                assertThat(browser.ok(one.url("get?name=color"))).isEqualTo("teal");
                assertThat(browser.ok(one.url("get?name=cart"))).isEqualTo("[apple]");
                assertThat(browser.ok(one.url("recommendations"))).isEqualTo("book");
                browser.ok(one.url("change-id"));
                assertThat(browser.ok(two.url("get?name=color"))).isEqualTo("teal");
                one.manager().processExpires();
                browser.ok(two.url("invalidate"));
                assertThat(browser.ok(one.url("count"))).isEqualTo("no session");
            } finally {
                System.clearProperty("tomcatredis.redisUri");
            }
            try (Jedis admin = redis.node().client()) {
                assertThat(admin.aclLog()).as("commands the tomcat-session user was refused").isEmpty();
            }
        }
    }

    /** The README shows conf/users.acl as it ships, line for line: its command lists stay accurate. */
    @Test
    void readmeShowsTheShippedAclFile() throws Exception {
        Path aclFile = ProjectConf.file("users.acl");
        String readme = Files.readString(aclFile.getParent().getParent().resolve("README.md"));
        List<String> lines = Files.readAllLines(aclFile);
        assertThat(lines).isNotEmpty().allSatisfy(line -> assertThat(line).startsWith("user "));
        assertThat(readme).contains(String.join("\n", lines));
    }

    /**
     * The startup check's probes are what conf/users.acl grants, and Redis can judge each; the near
     * cache's tracking is not shipped (Redis does not check a tracking prefix against the user's key
     * patterns): only it is denied with nearCacheStalenessMillis on, as a warning, until the
     * operator appends what the README says.
     */
    @Test
    void sessionUserHasEveryPermissionTheStartupCheckAsksFor() {
        try (StandaloneRedis redis = StandaloneRedis.start(shippedConf());
             Jedis admin = redis.node().client();
             UnifiedJedis client = RedisConnector.open(RedisConnectionSettings.parse(Map.of(
                     RedisConnectionSettings.REDIS_URI, uri(redis, "tomcat-session", TOMCAT_PASSWORD))::get), "test")) {
            SessionKeys keys = new SessionKeys(SessionKeys.defaultPrefix("localhost", "/app"));
            AclCheck.Result result = SessionAcl.check("test", "tomcat-session", keys, false).run(client);
            assertThat(result.checked()).isTrue();
            assertThat(result.errors()).as("probes Redis could not judge").isEmpty();
            assertThat(result.denied()).isEmpty();
            assertThat(result.refusal()).isNull();

            AclCheck nearCache = SessionAcl.check("test", "tomcat-session", keys, true);
            AclCheck.Result withNearCache = nearCache.run(client);
            assertThat(withNearCache.passed()).isTrue();
            assertThat(withNearCache.denied()).extracting(probe -> String.join(" ", probe.words()))
                    .allSatisfy(denied -> assertThat(denied).containsAnyOf("client tracking", "subscribe __redis__:invalidate"))
                    .isNotEmpty();
            assertThat(nearCache.featureWarnings(withNearCache)).singleElement().asString()
                    .contains("nearCacheStalenessMillis");

            admin.aclSetUser("tomcat-session", "+client|tracking", "&__redis__:invalidate");
            assertThat(nearCache.run(client).denied()).as("with the README's addition for the near cache").isEmpty();
        }
    }

    /**
     * Issue 18: the cache filter's user cannot read, write or delete a session, nor run a script on
     * one; the session user cannot touch the cache, not even through the commands of RedisSessions.
     */
    @Test
    void cacheUserCannotTouchSessionsAndSessionUserCannotTouchTheCache() {
        try (StandaloneRedis redis = StandaloneRedis.start(shippedConf());
             Jedis session = as(redis, "tomcat-session", TOMCAT_PASSWORD);
             Jedis cache = as(redis, "tomcat-cache", CACHE_PASSWORD);
             Jedis admin = redis.node().client()) {
            session.hset(SESSION_KEY, "meta:creationTime", "1");
            cache.set(CACHE_KEY, "page");
            List<Executable> cacheOnSessions = List.of(
                    () -> cache.hgetAll(SESSION_KEY),
                    () -> cache.hset(SESSION_KEY, "meta:principal", "planted"),
                    () -> cache.del(SESSION_KEY),
                    () -> cache.eval("return redis.call('HGETALL', KEYS[1])", 1, SESSION_KEY),
                    () -> cache.eval("return redis.call('DEL', KEYS[1])", 1, SESSION_KEY),
                    () -> cache.get(SESSION_KEY));
            for (Executable attempt : cacheOnSessions) {
                assertThatThrownBy(attempt::execute).isInstanceOf(JedisDataException.class).hasMessageStartingWith("NOPERM");
            }
            List<Executable> sessionOnCache = List.of(
                    () -> session.get(CACHE_KEY),
                    () -> session.set(CACHE_KEY, "planted"),
                    () -> session.del(CACHE_KEY),
                    () -> session.eval("return redis.call('GET', KEYS[1])", 1, CACHE_KEY),
                    // What RedisSessions.Scope sends, on a cache key:
                    () -> session.hset(CACHE_KEY, "f", "v"),
                    () -> session.hget(CACHE_KEY, "f"),
                    () -> session.hgetAll(CACHE_KEY),
                    () -> session.hdel(CACHE_KEY, "f"),
                    () -> session.sadd(CACHE_KEY, "m"),
                    () -> session.srem(CACHE_KEY, "m"),
                    () -> session.smembers(CACHE_KEY),
                    () -> session.sismember(CACHE_KEY, "m"),
                    () -> session.rpush(CACHE_KEY, "v"),
                    () -> session.lrange(CACHE_KEY, 0, -1),
                    () -> session.ttl(CACHE_KEY),
                    () -> session.memoryUsage(CACHE_KEY));
            for (Executable attempt : sessionOnCache) {
                assertThatThrownBy(attempt::execute).isInstanceOf(JedisDataException.class).hasMessageStartingWith("NOPERM");
            }
            assertThat(admin.hget(SESSION_KEY, "meta:principal")).isNull();
            assertThat(admin.exists(SESSION_KEY)).isTrue();
            assertThat(admin.get(CACHE_KEY)).isEqualTo("page");
            // Neither may flush, list or reconfigure Redis.
            assertThatThrownBy(cache::flushAll).hasMessageStartingWith("NOPERM");
            assertThatThrownBy(() -> session.keys("*")).hasMessageStartingWith("NOPERM");
            assertThatThrownBy(() -> session.configGet("*")).hasMessageStartingWith("NOPERM");
        }
    }

    /**
     * A user narrower than conf/users.acl stops the context at startup, naming the user, what it
     * lacks (a command, the key pattern, the scripting command) and conf/users.acl.
     */
    @Test
    @Tag("tomcat")
    void userLackingAPermissionStopsTheContextWithAnExactMessage() {
        try (StandaloneRedis redis = StandaloneRedis.start(shippedConf());
             Jedis admin = redis.node().client()) {
            narrowed(admin, "no-hset", "+hset", "+get");
            narrowed(admin, "no-keys", "~tomcat-session:*", "~other:*");
            narrowed(admin, "no-evalsha", "+evalsha", "+get");
            String start = "RedisSessionManager of /app: the Redis user ";
            String end = "; allow them in that user's ACL rule (see conf/users.acl)";
            assertThat(refusal(redis, "no-hset")).isEqualTo(start + "\"no-hset\" is denied commands it needs under"
                    + " keyPrefix \"tomcat-session:localhost/app:\": HSET tomcat-session:localhost/app:{acl-check} f v"
                    + end);
            assertThat(refusal(redis, "no-keys")).startsWith(start + "\"no-keys\" may not run the permission check"
                    + " (EVALSHA or EVAL with key tomcat-session:localhost/app:{acl-check}), which it needs for every"
                    + " operation under keyPrefix \"tomcat-session:localhost/app:\": NOPERM").endsWith(end);
            assertThat(refusal(redis, "no-evalsha")).startsWith(start + "\"no-evalsha\" may not run the permission"
                    + " check").contains(": NOPERM").contains("evalsha").endsWith(end);
            // The same for a PersistentManager's RedisStore.
            try (CapturedLog log = CapturedLog.of("")) {
                assertThatThrownBy(() -> TomcatNode.startWith("store-narrow", () -> {
                    PersistentManager manager = new PersistentManager();
                    RedisStore store = new RedisStore();
                    store.setProperty("redisUri", uri(redis, "no-hset", TOMCAT_PASSWORD));
                    manager.setStore(store);
                    return manager;
                }, c -> { }).close()).hasMessageContaining("did not start");
                assertThat(log.text()).contains("RedisStore of /app: the Redis user \"no-hset\" is denied commands it"
                        + " needs under keyPrefix \"tomcat-session:localhost/app:\": HSET"
                        + " tomcat-session:localhost/app:{acl-check} f v" + end);
            }
        }
    }

    /** {@code user} with the shipped rules of tomcat-session, {@code replaced} changed to {@code by}. */
    /**
     * Redis away when the context starts (it starts, as before): the check runs on the first call
     * that reaches Redis, and a user lacking a permission is then logged as an ERROR.
     */
    @Test
    @Tag("tomcat")
    void userLackingAPermissionFoundOnceRedisAnswersIsAnError() throws Exception {
        Path acl = ProjectConf.aclFileWithPasswords(Map.of("tomcat-session", TOMCAT_PASSWORD));
        Files.write(acl, Files.readAllLines(acl).stream()
                .map(line -> line.startsWith("user tomcat-session ") ? line.replace(" +hset ", " ") : line).toList());
        try (StandaloneRedis redis = StandaloneRedis.start(RedisOptions.DEFAULTS.withShippedConf(acl, "admin",
                ADMIN_PASSWORD))) {
            redis.node().stop();
            System.setProperty("tomcatredis.redisUri", uri(redis, "tomcat-session", TOMCAT_PASSWORD));
            try (CapturedLog log = CapturedLog.of("");
                 TomcatNode node = TomcatNode.startFromContextXml("deferred", ProjectConf.file("context-standalone.xml"))) {
                assertThat(log.text()).doesNotContain("is denied");
                redis.node().start();
                HttpSessionClient browser = new HttpSessionClient();
                Await.until(Duration.ofSeconds(30), "the permission check once Redis answers", () -> {
                    browser.get(node.url("set?name=color&value=teal"));
                    return log.text().contains("is denied");
                });
                assertThat(log.text()).contains("RedisSessionManager of /app: the Redis user \"tomcat-session\" is denied"
                        + " commands it needs under keyPrefix \"tomcat-session:localhost/app:\": HSET"
                        + " tomcat-session:localhost/app:{acl-check} f v; allow them in that user's ACL rule (see"
                        + " conf/users.acl) (found once Redis could be reached: session requests fail until the user has"
                        + " them)");
            } finally {
                System.clearProperty("tomcatredis.redisUri");
            }
        }
    }

    private static void narrowed(Jedis admin, String user, String replaced, String by) {
        List<String> rules = new ArrayList<>(ProjectConf.aclRules("tomcat-session", replaced, by));
        rules.add(">" + TOMCAT_PASSWORD);
        admin.aclSetUser(user, rules.toArray(String[]::new));
    }

    /** The message that stopped the context when the manager connects as {@code user}. */
    private static String refusal(StandaloneRedis redis, String user) {
        System.setProperty("tomcatredis.redisUri", uri(redis, user, TOMCAT_PASSWORD));
        try (CapturedLog log = CapturedLog.of("")) {
            assertThatThrownBy(() -> TomcatNode.startFromContextXml("narrow-" + user,
                    ProjectConf.file("context-standalone.xml")).close()).hasMessageContaining("did not start");
            return log.text().lines().map(line -> line.replaceFirst("^.*?(RedisSessionManager of /app: the Redis user)",
                    "$1").replaceFirst(" \\| .*$", "")).filter(line -> line.startsWith("RedisSessionManager of /app: the Redis user")).findFirst()
                    .orElseThrow(() -> new AssertionError("no refusal in the log:\n" + log.text()));
        } finally {
            System.clearProperty("tomcatredis.redisUri");
        }
    }
}
