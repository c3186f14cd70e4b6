package io.tomcatredis.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The holder's decisions, without Redis: its clients point at a port nothing listens on and are
 * never used for a command (opening a standalone client does not connect).
 */
class RedisClientHolderTest {

    private static final long TIMEOUT_MILLIS = 2000;
    private static final long RECONNECT_MILLIS = 100;

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final List<RedisClient> opened = new ArrayList<>();
    private final AtomicBoolean reachable = new AtomicBoolean(true);
    private final List<RedisClientHolder> holders = new ArrayList<>();

    private synchronized RedisClient openClient() {
        if (!reachable.get()) {
            throw new JedisConnectionException("All sentinels down, cannot determine where mymaster is running");
        }
        RedisClient client = RedisClient.builder().hostAndPort("127.0.0.1", 1).build();
        opened.add(client);
        return client;
    }

    private RedisClientHolder holder(RedisClientHolder.Reopen reopen) {
        RedisClientHolder holder = new RedisClientHolder(this::openClient, reopen, TIMEOUT_MILLIS, RECONNECT_MILLIS,
                "test", nanos::get);
        holders.add(holder);
        return holder;
    }

    @AfterEach
    void closeAll() {
        holders.forEach(RedisClientHolder::close);
    }

    private static UnifiedJedis current(RedisClientHolder holder) {
        return holder.call(client -> client);
    }

    /** Time passes beyond the reconnect back-off. */
    private void later() {
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(RECONNECT_MILLIS));
    }

    private static void fail(RedisClientHolder holder, RuntimeException failure) {
        assertThatThrownBy(() -> holder.call(client -> {
            throw failure;
        })).isSameAs(failure);
    }

    @Test
    void readonlyAfterAFailoverBehindAStableAddressDropsThePoolSoTheNextCallReconnects() {
        RedisClientHolder holder = holder(RedisClientHolder.Reopen.ON_STALE_CONNECTION);
        UnifiedJedis first = current(holder);
        later();

        fail(holder, new JedisDataException("READONLY You can't write against a read only replica."));

        UnifiedJedis second = current(holder);
        assertThat(second).isNotSameAs(first);
        assertThat(current(holder)).isSameAs(second);
        assertThat(opened).hasSize(2);
        Await.until(Duration.ofSeconds(10), "the retired client's pool, idle connections included, to be closed",
                () -> opened.get(0).getPool().isClosed());
        assertThat(opened.get(1).getPool().isClosed()).isFalse();
    }

    @Test
    void loadingMasterdownAndBrokenConnectionsEachReconnect() {
        RedisClientHolder holder = holder(RedisClientHolder.Reopen.ON_STALE_CONNECTION);
        for (RuntimeException failure : List.of(new JedisDataException("LOADING Redis is loading the dataset"),
                new JedisDataException("MASTERDOWN Link with MASTER is down"),
                new JedisConnectionException("Connection reset"))) {
            UnifiedJedis before = current(holder);
            later();
            fail(holder, failure);
            assertThat(current(holder)).as("after " + failure.getMessage()).isNotSameAs(before);
        }
    }

    @Test
    void otherFailuresKeepTheClient() {
        RedisClientHolder holder = holder(RedisClientHolder.Reopen.ON_STALE_CONNECTION);
        UnifiedJedis client = current(holder);
        fail(holder, new JedisDataException("WRONGTYPE Operation against a key holding the wrong kind of value"));
        fail(holder, new JedisDataException("OOM command not allowed when used memory > 'maxmemory'."));
        fail(holder, new IllegalStateException("a bug in the command"));
        assertThat(current(holder)).isSameAs(client);
        assertThat(opened).hasSize(1);
    }

    @Test
    void aClusterClientFollowsFailoversItselfAndIsKept() {
        RedisClientHolder holder = holder(RedisClientHolder.Reopen.NEVER);
        UnifiedJedis client = current(holder);
        fail(holder, new JedisConnectionException("Connection refused"));
        fail(holder, new JedisDataException("READONLY You can't write against a read only replica."));
        assertThat(current(holder)).isSameAs(client);
    }

    @Test
    void manyCallsFailingOnTheSameStaleClientReopenItOnce() throws Exception {
        RedisClientHolder holder = holder(RedisClientHolder.Reopen.ON_STALE_CONNECTION);
        UnifiedJedis stale = current(holder);
        later();
        int threads = 16;
        CountDownLatch allHoldIt = new CountDownLatch(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> calls = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                calls.add(pool.submit(() -> {
                    try {
                        holder.call(client -> {
                            allHoldIt.countDown();
                            try {
                                allHoldIt.await(10, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            throw new JedisDataException("READONLY You can't write against a read only replica.");
                        });
                    } catch (JedisDataException expected) {
                        // each call reports the failure it saw
                    }
                }));
            }
            for (Future<?> call : calls) {
                call.get(10, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        UnifiedJedis fresh = current(holder);
        assertThat(fresh).isNotSameAs(stale);
        assertThat(opened).as("one new client for the whole burst").hasSize(2);
    }

    @Test
    void aLateFailureOfARetiredClientDoesNotDropItsReplacement() {
        RedisClientHolder holder = holder(RedisClientHolder.Reopen.ON_STALE_CONNECTION);
        UnifiedJedis stale = current(holder);
        later();
        fail(holder, new JedisConnectionException("Connection reset"));
        UnifiedJedis fresh = current(holder);

        holder.failed(stale, new JedisConnectionException("a call that held the old client fails later"));

        assertThat(current(holder)).isSameAs(fresh);
    }

    @Test
    void sentinelUnreachableAtStartFailsCallsFastThenConnectsOnceItAnswersWithoutARestart() {
        reachable.set(false);
        RedisClientHolder holder = holder(RedisClientHolder.Reopen.ON_STALE_CONNECTION);
        assertThat(holder.isOpen()).isFalse();
        assertThatThrownBy(() -> current(holder)).as("within the back-off: fails at once, no attempt")
                .isInstanceOf(RedisClientHolder.RedisNotConnectedException.class)
                .isInstanceOf(JedisConnectionException.class).hasMessageContaining("All sentinels down");

        later();
        assertThatThrownBy(() -> current(holder)).as("an attempt that fails")
                .isInstanceOf(RedisClientHolder.RedisNotConnectedException.class);

        reachable.set(true);
        assertThatThrownBy(() -> current(holder)).as("still within the back-off of the last attempt")
                .isInstanceOf(RedisClientHolder.RedisNotConnectedException.class);
        later();
        UnifiedJedis client = current(holder);
        assertThat(holder.isOpen()).isTrue();
        assertThat(current(holder)).isSameAs(client);
    }

    @Test
    void aConfigurationErrorWhileOpeningStopsTheStartInsteadOfBeingRetried() {
        assertThatThrownBy(() -> new RedisClientHolder(() -> {
            throw new IllegalArgumentException("keystore cannot be read");
        }, RedisClientHolder.Reopen.ON_STALE_CONNECTION, TIMEOUT_MILLIS, RECONNECT_MILLIS, "test", nanos::get))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("keystore cannot be read");
    }

    @Test
    void aSlowOpenMakesCallsWaitAtMostTimeoutMillis() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean slow = new AtomicBoolean(false);
        Supplier<UnifiedJedis> opener = () -> {
            if (slow.get()) {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return openClient();
        };
        RedisClientHolder holder = new RedisClientHolder(opener, RedisClientHolder.Reopen.ON_STALE_CONNECTION, 50,
                0, "test", nanos::get);
        holders.add(holder);
        fail(holder, new JedisConnectionException("Connection reset"));
        slow.set(true);
        assertThatThrownBy(() -> current(holder)).isInstanceOf(RedisClientHolder.RedisNotConnectedException.class)
                .hasMessageContaining("still being connected to after 50 ms");
        release.countDown();
        Await.until(Duration.ofSeconds(10), "the background open to finish", holder::isOpen);
        assertThat(opened).hasSize(2);
    }

    @Test
    void closeClosesTheCurrentAndEveryRetiredClient() {
        RedisClientHolder holder = holder(RedisClientHolder.Reopen.ON_STALE_CONNECTION);
        current(holder);
        later();
        fail(holder, new JedisConnectionException("Connection reset"));
        current(holder);

        holder.close();

        assertThat(opened).allSatisfy(client -> assertThat(client.getPool().isClosed()).isTrue());
        assertThatThrownBy(() -> current(holder)).isInstanceOf(RedisClientHolder.RedisNotConnectedException.class)
                .hasMessageContaining("closed");
    }
}
