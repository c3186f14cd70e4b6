package io.tomcatredis.session.it;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.SentinelRedis;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The core session suite on a master, a replica and three sentinels. */
@Tag("valkey")
class SentinelSessionIT extends CoreSessionSuite {

    @RegisterExtension
    static final RedisExtension<SentinelRedis> REDIS = RedisExtension.sentinel();

    @Override
    RedisUnderTest redisUnderTest() {
        return RedisUnderTest.sentinel(REDIS.get());
    }
}
