package io.tomcatredis.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.connection.AclCheck.Probe;
import io.tomcatredis.connection.AclCheck.Result;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** {@link AclCheck} against Redis's own ACL: what {@code redis.acl_check_cmd} says, and the check itself refused. */
class AclCheckIT {

    private static final String PASSWORD = "acl-check-secret";

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone(
            RedisOptions.DEFAULTS.withAclUser("admin", "admin-secret"));

    private static final List<Probe> PROBES = List.of(
            Probe.of("hset", "p:{acl-check}", "f", "v"),
            Probe.of("hgetall", "p:{acl-check}"),
            Probe.of("memory", "usage", "p:{acl-check}"),
            Probe.of("get", "q:other"),
            Probe.of("publish", "p:channel", "m").forFeature("localTierBytes"));

    private static Result check(String user, String... rules) {
        try (Jedis admin = REDIS.get().node().client()) {
            admin.aclDelUser(user);
            admin.aclSetUser(user, rules);
            admin.aclSetUser(user, "on", ">" + PASSWORD);
        }
        RedisConnectionSettings settings = RedisConnectionSettings.parse(Map.of(RedisConnectionSettings.REDIS_URI,
                "redis://" + user + ":" + PASSWORD + "@" + REDIS.get().node().host() + ":" + REDIS.get().node().port())::get);
        try (RedisClientHolder holder = RedisConnector.connect(settings, "acl-check-test")) {
            return new AclCheck("test", user, "p:", "p:{acl-check}", PROBES).run(holder);
        }
    }

    @Test
    void namesEveryDeniedProbeAndOnlyThose() {
        Result result = check("narrow", "~p:*", "resetchannels", "-@all", "+evalsha", "+eval", "+hgetall", "+get",
                "+memory|usage");
        assertThat(result.checked()).isTrue();
        assertThat(result.refusal()).isNull();
        assertThat(result.errors()).isEmpty();
        assertThat(result.denied()).extracting(Probe::display)
                .containsExactly("HSET p:{acl-check} f v", "GET q:other", "PUBLISH p:channel m");
    }

    @Test
    void everythingAllowedPasses() {
        Result result = check("wide", "~p:*", "~q:*", "&p:*", "-@all", "+evalsha", "+eval", "+hset", "+hgetall", "+get",
                "+memory|usage", "+publish");
        assertThat(result.passed()).isTrue();
        assertThat(result.denied()).isEmpty();
    }

    @Test
    void aUserWithoutScriptingIsReportedByRedisError() {
        Result result = check("noscript", "~p:*", "-@all", "+hset", "+hgetall");
        assertThat(result.refusal()).startsWith("NOPERM").contains("evalsha");
        assertThat(result.passed()).isFalse();
    }

    @Test
    void aUserWithoutTheProbeKeyIsReportedByRedisError() {
        Result result = check("otherkeys", "~q:*", "-@all", "+evalsha", "+eval", "+hset");
        assertThat(result.refusal()).startsWith("NOPERM");
    }

    @Test
    void unreachableAtFirstThenCheckedOnTheFirstCallThatReachesRedis() {
        RedisConnectionSettings settings = RedisConnectionSettings.parse(Map.of(RedisConnectionSettings.REDIS_URI,
                "redis://admin:admin-secret@" + REDIS.get().node().host() + ":" + REDIS.get().node().port())::get);
        AtomicReference<Result> verdict = new AtomicReference<>();
        try (RedisClientHolder holder = RedisConnector.connect(settings, "acl-check-test")) {
            AclCheck check = new AclCheck("test", "admin", "p:", "p:{acl-check}", PROBES);
            check.whenReachable(holder, verdict::set);
            assertThat(verdict.get()).isNull();
            assertThatThrownBy(() -> holder.call(jedis -> {
                throw new JedisConnectionException("simulated");
            })).isInstanceOf(JedisConnectionException.class);
            assertThat(verdict.get()).as("not after a call that did not reach Redis").isNull();
            // That failure retired the client: the next calls may fail until it is opened again.
            Await.until(Duration.ofSeconds(10), "a call that reaches Redis", () -> {
                try {
                    return "PONG".equals(holder.call(jedis -> jedis.ping()));
                } catch (JedisConnectionException e) {
                    return false;
                }
            });
            assertThat(verdict.get()).isNotNull();
            assertThat(verdict.get().passed()).isTrue();
            verdict.set(null);
            holder.call(jedis -> jedis.ping());
            assertThat(verdict.get()).as("once").isNull();
        }
    }

    /**
     * A Redis busy with a long script (as one loading its data, without a master, mid-resharding)
     * answers the check with an error that says nothing of the permissions: reported as not
     * reachable, so the components try again on a later call, instead of never checking.
     */
    @Test
    void aRedisNotReadyIsTriedAgainLaterNotTakenAsAnAnswer() throws Exception {
        RedisConnectionSettings settings = RedisConnectionSettings.parse(Map.of(RedisConnectionSettings.REDIS_URI,
                "redis://admin:admin-secret@" + REDIS.get().node().host() + ":" + REDIS.get().node().port())::get);
        AclCheck check = new AclCheck("test", "admin", "p:", "p:{acl-check}", PROBES);
        Thread busy;
        try (Jedis admin = REDIS.get().node().client(); RedisClientHolder holder = RedisConnector.connect(settings,
                "acl-check-test")) {
            admin.configSet("busy-reply-threshold", "50");
            busy = new Thread(() -> {
                try (Jedis looping = REDIS.get().node().client()) {
                    looping.eval("while true do end", 0);
                } catch (RuntimeException killed) {
                    // SCRIPT KILL ends it with an error.
                }
            });
            busy.start();
            try {
                Await.until(Duration.ofSeconds(10), "Redis answers BUSY", () -> {
                    try (Jedis probe = REDIS.get().node().client()) {
                        probe.ping();
                        return false;
                    } catch (RuntimeException e) {
                        return String.valueOf(e.getMessage()).startsWith("BUSY");
                    }
                });
                assertThatThrownBy(() -> check.run(holder)).isInstanceOf(JedisConnectionException.class)
                        .hasMessageStartingWith("Redis is not ready for the permission check (BUSY");
            } finally {
                Await.until(Duration.ofSeconds(10), "the script killed", () -> {
                    try (Jedis killer = REDIS.get().node().client()) {
                        killer.scriptKill();
                    } catch (RuntimeException notRunning) {
                        // NOTBUSY once it is gone.
                    }
                    busy.join(100);
                    return !busy.isAlive();
                });
                admin.configSet("busy-reply-threshold", "5000");
            }
            assertThat(check.run(holder).passed()).isTrue();
        }
    }
}
