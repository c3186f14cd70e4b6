package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SessionTableTest {

    private final SessionTable table = new SessionTable();

    private static RedisSession session(String id) {
        RedisSession session = new RedisSession(new RedisSessionManager());
        session.setId(id, false);
        return session;
    }

    @Test
    void objectStaysWhileARequestUsesItAndLeavesDetachedWithTheLast() {
        RedisSession session = session("AB.node1");
        session.tryAcquire();
        assertThat(table.install(session, null)).isSameAs(session);

        assertThat(table.acquire("AB.node2")).as("any route finds it").isSameAs(session);
        table.release(session);
        assertThat(table.size()).isEqualTo(1);
        table.release(session);

        assertThat(table.size()).isZero();
        assertThat(session.isDetached()).isTrue();
        assertThat(table.acquire("AB")).isNull();
    }

    @Test
    void concurrentLoadsShareTheObjectInstalledFirst_regressionTwoObjectsOfOneSessionOnOneNode() {
        RedisSession first = session("AB");
        RedisSession second = session("AB");
        first.tryAcquire();
        second.tryAcquire();

        assertThat(table.install(first, null)).isSameAs(first);
        assertThat(table.install(second, null)).isSameAs(first);

        table.release(first);
        assertThat(table.size()).as("the second request still uses it").isEqualTo(1);
    }

    @Test
    void staleObjectIsReplacedForNewRequestsAndDetachesWhenItsRequestsEnd() {
        RedisSession stale = session("AB");
        stale.tryAcquire();
        table.install(stale, null);
        RedisSession fresh = session("AB");
        fresh.tryAcquire();

        assertThat(table.install(fresh, stale)).isSameAs(fresh);
        table.release(stale);

        assertThat(stale.isDetached()).isTrue();
        assertThat(table.acquire("AB")).isSameAs(fresh);
    }

    @Test
    void removeTakesOutOnlyThatObject() {
        RedisSession current = session("AB");
        current.tryAcquire();
        table.install(current, null);

        table.remove(session("AB"));

        assertThat(table.size()).isEqualTo(1);
    }
}
