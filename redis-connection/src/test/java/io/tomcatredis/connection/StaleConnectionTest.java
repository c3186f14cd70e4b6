package io.tomcatredis.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.SocketTimeoutException;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

class StaleConnectionTest {

    @Test
    void readonlyOfADemotedMasterAlsoInsideAScriptDropsTheConnections() {
        assertThat(StaleConnection.of(new JedisDataException("READONLY You can't write against a read only replica.")))
                .isEqualTo(StaleConnection.READONLY);
        assertThat(StaleConnection.of(new JedisDataException("READONLY You can't write against a read only replica."
                + " script: 0c76e1d8b833ecdd3d384592ac78df75e13664d4, on @user_script:1.")))
                .isEqualTo(StaleConnection.READONLY);
    }

    @Test
    void loadingAndMasterdownDropTheConnections() {
        assertThat(StaleConnection.of(new JedisDataException("LOADING Redis is loading the dataset in memory")))
                .isEqualTo(StaleConnection.LOADING);
        assertThat(StaleConnection.of(new JedisDataException("MASTERDOWN Link with MASTER is down and"
                + " replica-serve-stale-data is set to 'no'."))).isEqualTo(StaleConnection.MASTERDOWN);
    }

    @Test
    void brokenConnectionsAlsoWrappedDropTheConnections() {
        assertThat(StaleConnection.of(new JedisConnectionException(new SocketTimeoutException("Read timed out"))))
                .isEqualTo(StaleConnection.CONNECTION);
        assertThat(StaleConnection.of(new JedisClusterOperationException("No more attempts",
                new JedisConnectionException("Connection refused")))).isEqualTo(StaleConnection.CONNECTION);
        assertThat(StaleConnection.of(new RuntimeException(new JedisDataException("READONLY x"))))
                .isEqualTo(StaleConnection.READONLY);
    }

    @Test
    void failuresThatSayNothingAboutTheConnectionKeepIt() {
        assertThat(StaleConnection.of(new JedisDataException("WRONGTYPE Operation against a key holding the wrong"
                + " kind of value"))).isNull();
        assertThat(StaleConnection.of(new JedisNoScriptException("NOSCRIPT No matching script."))).isNull();
        assertThat(StaleConnection.of(new JedisDataException("ERR Error running script: user_script:1: READONLY")))
                .as("a script's own error text mentioning READONLY").isNull();
        assertThat(StaleConnection.of(new JedisDataException("READONLYISH not a Redis error code"))).isNull();
        assertThat(StaleConnection.of(new JedisDataException("OOM command not allowed when used memory >"
                + " 'maxmemory'."))).as("a full Redis: reconnecting would not help").isNull();
        assertThat(StaleConnection.of(new JedisException("Could not get a resource from the pool",
                new NoSuchElementException("Timeout waiting for idle object")))).as("pool exhausted: load, not a"
                + " stale connection").isNull();
        assertThat(StaleConnection.of(new JedisDataException((String) null))).isNull();
        assertThat(StaleConnection.of(new IllegalStateException("x"))).isNull();
    }
}
