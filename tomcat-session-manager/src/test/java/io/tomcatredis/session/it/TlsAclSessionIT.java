package io.tomcatredis.session.it;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The core session suite over mutual TLS (private CA, hostname verified) with an ACL user. */
class TlsAclSessionIT extends CoreSessionSuite {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone(
            RedisOptions.DEFAULTS.withMutualTls().withAclUser("sessions", "s3cret-pass"));

    @Override
    RedisUnderTest redisUnderTest() {
        return RedisUnderTest.tls(REDIS.get());
    }
}
