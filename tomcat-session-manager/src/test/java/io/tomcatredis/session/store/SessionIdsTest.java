package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SessionIdsTest {

    @ParameterizedTest
    @ValueSource(strings = {"0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdef",
            "0123456789ABCDEF0123456789ABCDEF.node1", "0123456789ABCDEF0123456789ABCDEF.node-2_b"})
    void acceptsGeneratedIdsWithOrWithoutJvmRoute(String id) {
        assertThat(SessionIds.isWellFormed(id, 32)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "*", "ABC", "0123456789ABCDEF0123456789ABCDE", "0123456789ABCDEF0123456789ABCDEF0",
            "0123456789ABCDEF0123456789ABCDEG", "{123456789ABCDEF0123456789ABCDE}", "0123456789ABCDEF0123456789ABCDEF.",
            "0123456789ABCDEF0123456789ABCDEF.a{b}", "0123456789ABCDEF0123456789ABCDEF.a b",
            "0123456789ABCDEF0123456789ABCDEF.a.b"})
    void rejectsAnythingElse(String id) {
        assertThat(SessionIds.isWellFormed(id, 32)).isFalse();
    }

    @org.junit.jupiter.api.Test
    void rejectsHugeIdsAndNull() {
        assertThat(SessionIds.isWellFormed("A".repeat(10_000), 32)).isFalse();
        assertThat(SessionIds.isWellFormed("0123456789ABCDEF0123456789ABCDEF." + "r".repeat(65), 32)).isFalse();
        assertThat(SessionIds.isWellFormed(null, 32)).isFalse();
    }

    @org.junit.jupiter.api.Test
    void redactsIdsForLogs() {
        assertThat(SessionIds.redact("0123456789ABCDEF")).isEqualTo("012345…");
    }

    @org.junit.jupiter.api.Test
    void keyHoldsTheIdWithoutRouteInAHashTag() {
        SessionKeys keys = new SessionKeys("tomcat-session:localhost/shop:");
        assertThat(keys.sessionKey("ABCDEF.node1")).isEqualTo("tomcat-session:localhost/shop:{ABCDEF}");
        assertThat(SessionKeys.defaultPrefix("localhost", "")).isEqualTo("tomcat-session:localhost/:");
    }
}
