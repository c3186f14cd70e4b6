package io.tomcatredis.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.connection.AclCheck.Probe;
import io.tomcatredis.connection.AclCheck.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The messages of {@link AclCheck}: exact, naming the user, what it lacks and conf/users.acl. */
class AclCheckTest {

    private static final Probe HSET = Probe.of("hset", "p:{acl-check}", "f", "v");
    private static final Probe USAGE = Probe.of("memory", "usage", "p:{acl-check}");
    private static final Probe SUBSCRIBE = Probe.of("subscribe", "p:channel").forFeature("localTierBytes");
    private final AclCheck check = new AclCheck("RedisSessionManager of /shop", "tomcat-session", "p:", "p:{acl-check}",
            List.of(HSET, USAGE, SUBSCRIBE));

    @Test
    void deniedCommandsAreNamedWithTheirKeysTheUserAndTheAclFile() {
        Result result = new Result(List.of(HSET, USAGE), null, List.of(), true);
        assertThat(result.passed()).isFalse();
        assertThat(check.problem(result)).isEqualTo("RedisSessionManager of /shop: the Redis user \"tomcat-session\""
                + " is denied commands it needs under keyPrefix \"p:\": HSET p:{acl-check} f v, MEMORY USAGE p:{acl-check};"
                + " allow them in that user's ACL rule (see conf/users.acl)");
        assertThat(check.featureWarnings(result)).isEmpty();
    }

    @Test
    void aRefusedCheckScriptIsReportedWithRedisError() {
        Result result = new Result(List.of(), "NOPERM User tomcat-session has no permissions to run the 'evalsha'"
                + " command", List.of(), true);
        assertThat(check.problem(result)).isEqualTo("RedisSessionManager of /shop: the Redis user \"tomcat-session\""
                + " may not run the permission check (EVALSHA or EVAL with key p:{acl-check}), which it needs for every"
                + " operation under keyPrefix \"p:\": NOPERM User tomcat-session has no permissions to run the 'evalsha'"
                + " command; allow them in that user's ACL rule (see conf/users.acl)");
    }

    @Test
    void anOptionalFeatureDeniedIsAWarningNotAProblem() {
        Result result = new Result(List.of(SUBSCRIBE), null, List.of(), true);
        assertThat(result.passed()).isTrue();
        assertThat(check.problem(result)).isNull();
        assertThat(check.featureWarnings(result)).containsExactly("RedisSessionManager of /shop: the Redis user"
                + " \"tomcat-session\" is denied what localTierBytes needs: SUBSCRIBE p:channel; localTierBytes stays off"
                + " until it is allowed (see conf/users.acl)");
    }

    @Test
    void aUriWithoutUserIsTheDefaultUser() {
        AclCheck anonymous = new AclCheck("RedisCacheFilter c of /", null, "p:", "p:k", List.of(HSET));
        assertThat(anonymous.problem(new Result(List.of(HSET), null, List.of(), true)))
                .startsWith("RedisCacheFilter c of /: the Redis user \"default\" is denied");
    }

    @Test
    void nothingDeniedIsNoProblem() {
        Result result = new Result(List.of(), null, List.of(), true);
        assertThat(result.passed()).isTrue();
        assertThat(check.problem(result)).isNull();
        assertThat(check.featureWarnings(result)).isEmpty();
    }

    @Test
    void probeWordsCannotHoldTheSeparator() {
        assertThatThrownBy(() -> Probe.of("get", "a\nb")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Probe.of("get", "")).isInstanceOf(IllegalArgumentException.class);
    }
}
