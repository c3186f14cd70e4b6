package io.tomcatredis.session.it;

import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sign out everywhere on a three-master Redis Cluster: each user's index is a key of its own slot,
 * apart from its sessions' slots, maintained outside the session scripts.
 */
class ClusterSignOutEverywhereIT extends SignOutEverywhereSuite {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.cluster(3, 0);

    @Override
    RedisUnderTest redisUnderTest() {
        return RedisUnderTest.cluster(REDIS.get());
    }
}
