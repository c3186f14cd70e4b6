package io.tomcatredis.session.it;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The core session suite on one plain Redis. */
@Tag("valkey")
class StandaloneSessionIT extends CoreSessionSuite {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    @Override
    RedisUnderTest redisUnderTest() {
        return RedisUnderTest.standalone(REDIS.get());
    }
}
