package io.tomcatredis.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.util.Pool;

/**
 * A broken pooled connection is not replaced on the failing caller's thread: with a frozen Redis
 * that replacement would make the caller wait {@code timeoutMillis} a second time (commons-pool2
 * 2.13's invalidateObject opens one at once).
 */
class OnDemandConnectionProviderIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    @Test
    void aBrokenConnectionIsReplacedOnlyWhenACallNeedsOne() {
        RedisConnectionSettings settings = RedisConnectionSettings.parse(java.util.Map.of(
                RedisConnectionSettings.REDIS_URI, REDIS.get().uri())::get);
        OnDemandConnectionProvider provider = new OnDemandConnectionProvider(REDIS.get().node().hostAndPort(),
                REDIS.get().clientConfig(), RedisConnector.poolConfig(settings));
        try (UnifiedJedis jedis = RedisClient.builder().connectionProvider(provider).build()) {
            Pool<?> pool = (Pool<?>) provider.getConnectionMap().values().iterator().next();
            assertThat(jedis.ping()).isEqualTo("PONG");
            try (Jedis admin = REDIS.get().node().client()) {
                admin.sendCommand(redis.clients.jedis.Protocol.Command.CLIENT, "KILL", "TYPE", "normal", "SKIPME", "yes");
            }

            assertThatThrownBy(jedis::ping).isInstanceOf(JedisConnectionException.class);
            assertThat(pool.getCreatedCount()).as("connections opened once the first one broke").isEqualTo(1);
            assertThat(pool.getNumIdle()).isZero();

            assertThat(jedis.ping()).isEqualTo("PONG");
            assertThat(pool.getCreatedCount()).as("opened by the call that needed it").isEqualTo(2);
        }
    }
}
