package io.tomcatredis.session.it;

import io.tomcatredis.testsupport.ClusterRedis;
import io.tomcatredis.testsupport.RedisExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The core session suite on a three-master Redis Cluster: sessions spread over every shard. */
class ClusterSessionIT extends CoreSessionSuite {

    @RegisterExtension
    static final RedisExtension<ClusterRedis> REDIS = RedisExtension.cluster(3, 0);

    @Override
    RedisUnderTest redisUnderTest() {
        return RedisUnderTest.cluster(REDIS.get());
    }
}
