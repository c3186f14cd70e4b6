package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Sign out everywhere on standalone Redis, with the JMX operations and Redis away. */
class SignOutEverywhereIT extends SignOutEverywhereSuite {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    @Override
    RedisUnderTest redisUnderTest() {
        return RedisUnderTest.standalone(REDIS.get());
    }

    @Test
    void jmxOperationsListAndExpireTheSessionsOfAUserOnTheManagersMBean() throws Exception {
        HttpSessionClient phone = new HttpSessionClient();
        HttpSessionClient laptop = new HttpSessionClient();
        HttpSessionClient bob = new HttpSessionClient();
        login(phone, nodeA, "ann");
        login(laptop, nodeB, "ann");
        login(bob, nodeB, "bob");
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName manager = new ObjectName(nodeA.name() + ":type=Manager,host=localhost,context=/app");
        assertThat(Arrays.stream(server.getMBeanInfo(manager).getOperations()).map(MBeanOperationInfo::getName))
                .contains("listSessionIdsOf", "expireSessionsOf");
        String[] signature = {String.class.getName()};

        String listed = (String) server.invoke(manager, "listSessionIdsOf", new Object[] {"ann"}, signature);
        assertThat(listed.split(" ")).containsExactlyInAnyOrder(phone.sessionId(), laptop.sessionId());
        assertThat(server.invoke(manager, "listSessionIdsOf", new Object[] {"nobody"}, signature)).isEqualTo("");

        assertThat(server.invoke(manager, "expireSessionsOf", new Object[] {"ann"}, signature)).isEqualTo(2);

        assertThat(phone.ok(nodeB.url("whoami"))).isEqualTo("null");
        assertThat(laptop.ok(nodeB.url("whoami"))).isEqualTo("null");
        assertThat(bob.ok(nodeA.url("whoami"))).isEqualTo("bob");
        assertThat(destroyed.calls()).containsOnlyKeys(base(phone), base(laptop));
        assertThat(server.invoke(manager, "expireSessionsOf", new Object[] {"ann"}, signature)).isEqualTo(0);
    }

    @Test
    void redisAwayAnswers503ToSignOutEverywhereAndFailsTheJmxOperationWithoutHanging() throws Exception {
        HttpSessionClient phone = new HttpSessionClient();
        login(phone, nodeA, "ann");
        phone.ok(nodeA.url("set?name=seen&value=1"));
        redis.pauseMasters();
        try {
            for (String operation : List.of("invalidate-all?user=ann", "sessions-of?user=ann")) {
                CompletableFuture<Integer> request = CompletableFuture.supplyAsync(
                        () -> new HttpSessionClient().get(nodeA.url(operation)).status());
                assertThat(request.get(redis.unavailableMillis() * 2, TimeUnit.MILLISECONDS)).as(operation).isEqualTo(503);
            }
            assertThatThrownBy(() -> nodeB.manager().expireSessionsOf("ann"))
                    .hasMessageContaining("Redis session principalIndex failed");
        } finally {
            redis.resumeMasters();
        }
        assertThat(phone.ok(nodeB.url("whoami"))).as("nothing was signed out").isEqualTo("ann");
        assertThat(phone.ok(nodeB.url("signout-everywhere"))).isEqualTo("1");
        assertThat(phone.ok(nodeA.url("whoami"))).isEqualTo("null");
    }
}
