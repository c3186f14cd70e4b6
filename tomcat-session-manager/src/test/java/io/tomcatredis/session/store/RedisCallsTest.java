package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.connection.RedisClientHolder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The retry decisions of {@link RedisCalls}, without Redis: the clients point at a port nothing
 * listens on and are never used for a command (opening a standalone client does not connect).
 */
class RedisCallsTest {

    private final List<UnifiedJedis> opened = new ArrayList<>();
    private final RedisClientHolder holder = new RedisClientHolder(this::open,
            RedisClientHolder.Reopen.ON_STALE_CONNECTION, 2000, 0, "test");
    private final SessionStoreStatistics statistics = new SessionStoreStatistics();
    private final RedisCalls calls = new RedisCalls(holder, 2000, statistics);

    private synchronized UnifiedJedis open() {
        UnifiedJedis client = RedisClient.builder().hostAndPort("127.0.0.1", 1).build();
        opened.add(client);
        return client;
    }

    @AfterEach
    void close() {
        holder.close();
    }

    @Test
    void aSaveRefusedWithReadonlyByTheDemotedMasterIsSentOnceMoreOnANewConnection() {
        Object result = calls.call("save", client -> {
            if (client == opened.get(0)) {
                throw new JedisDataException("READONLY You can't write against a read only replica.");
            }
            return "saved on " + opened.indexOf(client);
        });

        assertThat(result).isEqualTo("saved on 1");
        assertThat(statistics.roundTrips()).isEqualTo(2);
        assertThat(statistics.failures()).isZero();
    }

    @Test
    void aNodeThatKeepsRefusingAnswersUnavailableAfterOneRetry() {
        assertThatThrownBy(() -> calls.call("save", client -> {
            throw new JedisDataException("LOADING Redis is loading the dataset in memory");
        })).isInstanceOf(SessionStoreUnavailableException.class).hasMessageContaining("LOADING");
        assertThat(statistics.roundTrips()).isEqualTo(2);
        assertThat(opened).hasSize(2);
    }

    @Test
    void otherErrorsAreNeitherRetriedNorReconnected() {
        assertThatThrownBy(() -> calls.call("save", client -> {
            throw new JedisDataException("OOM command not allowed when used memory > 'maxmemory'.");
        })).isInstanceOf(SessionStoreUnavailableException.class);
        assertThatThrownBy(() -> calls.call("load", client -> {
            throw new JedisDataException("WRONGTYPE Operation against a key holding the wrong kind of value");
        })).isInstanceOf(RedisCalls.WrongTypeException.class);
        assertThat(statistics.roundTrips()).isEqualTo(2);
        assertThat(opened).hasSize(1);
    }
}
