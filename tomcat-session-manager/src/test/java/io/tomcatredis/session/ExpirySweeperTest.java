package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.never;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

class ExpirySweeperTest {

    private final RedisSessionStore store = mock(RedisSessionStore.class);
    private final SessionRepository repository = mock(SessionRepository.class);
    private final Clock clock = Clock.fixed(Instant.ofEpochMilli(5_000_000), ZoneOffset.UTC);

    ExpirySweeperTest() {
        when(repository.store()).thenReturn(store);
    }

    @Test
    void claimsWhatTheIndexHasDueByTheInjectedClock() {
        when(store.dueForExpiry(5_000_000, ExpirySweeper.BATCH_SIZE)).thenReturn(List.of("A", "B"));

        int seen = new ExpirySweeper(repository, clock).sweep();

        assertThat(seen).isEqualTo(2);
        verify(repository).expire("A");
        verify(repository).expire("B");
    }

    @Test
    void oneRunIsBounded() {
        List<String> full = IntStream.range(0, ExpirySweeper.BATCH_SIZE).mapToObj(i -> "id" + i).toList();
        when(store.dueForExpiry(5_000_000L, ExpirySweeper.BATCH_SIZE)).thenReturn(full);

        int seen = new ExpirySweeper(repository, clock).sweep();

        assertThat(seen).isEqualTo(ExpirySweeper.BATCH_SIZE * ExpirySweeper.MAX_BATCHES);
        verify(store, times(ExpirySweeper.MAX_BATCHES)).dueForExpiry(5_000_000L, ExpirySweeper.BATCH_SIZE);
    }

    /** Benchmark MillionSessions: past the bound, sessions wait a period and may lose their listeners. */
    @Test
    void aRunThatEndsAtItsBoundWithMoreDueWarns() {
        List<String> full = IntStream.range(0, ExpirySweeper.BATCH_SIZE).mapToObj(i -> "id" + i).toList();
        when(store.dueForExpiry(5_000_000L, ExpirySweeper.BATCH_SIZE)).thenReturn(full);

        List<LogRecord> warnings = warningsDuring(() -> new ExpirySweeper(repository, clock).sweep());

        assertThat(warnings).singleElement().satisfies(record -> assertThat(record.getMessage())
                .contains("stopped at its bound of " + ExpirySweeper.BATCH_SIZE * ExpirySweeper.MAX_BATCHES)
                .contains("without its listeners"));
    }

    @Test
    void aRunThatClaimsEverythingDueDoesNotWarn() {
        List<String> full = IntStream.range(0, ExpirySweeper.BATCH_SIZE).mapToObj(i -> "id" + i).toList();
        when(store.dueForExpiry(5_000_000L, ExpirySweeper.BATCH_SIZE)).thenReturn(full, full, List.of("last"));

        List<LogRecord> warnings = warningsDuring(() -> new ExpirySweeper(repository, clock).sweep());

        assertThat(warnings).isEmpty();
        verify(repository).expire("last");
    }

    private static List<LogRecord> warningsDuring(Runnable run) {
        Logger logger = Logger.getLogger(RedisSessionManager.class.getName());
        List<LogRecord> warnings = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        try {
            run.run();
        } finally {
            logger.removeHandler(handler);
        }
        return warnings;
    }

    @Test
    void nothingDueClaimsNothing() {
        when(store.dueForExpiry(anyLong(), anyInt())).thenReturn(Collections.emptyList());
        assertThat(new ExpirySweeper(repository, clock).sweep()).isZero();
        verify(repository, times(0)).expire(anyString());
    }

    @Test
    void aSessionWhoseClaimRedisRefusesIsSkippedAndTheSweepGoesOn() {
        when(store.dueForExpiry(5_000_000L, ExpirySweeper.BATCH_SIZE)).thenReturn(List.of("A", "B"));
        doThrow(new SessionStoreUnavailableException("claim failed", new JedisDataException("WRONGTYPE")))
                .when(repository).expire("A");

        int seen = new ExpirySweeper(repository, clock).sweep();

        assertThat(seen).isEqualTo(2);
        verify(repository).expire("B");
    }

    @Test
    void sessionsWhoseClaimFailsAreAskedPastSoTheRestIsStillExpired() {
        List<String> failing = IntStream.range(0, 10).mapToObj(i -> "bad" + i).toList();
        List<String> first = new ArrayList<>(failing);
        first.addAll(IntStream.range(0, ExpirySweeper.BATCH_SIZE - 10).mapToObj(i -> "ok" + i).toList());
        List<String> second = new ArrayList<>(failing);
        second.add("last");
        when(store.dueForExpiry(5_000_000L, ExpirySweeper.BATCH_SIZE)).thenReturn(first);
        when(store.dueForExpiry(5_000_000L, ExpirySweeper.BATCH_SIZE + 10)).thenReturn(second);
        failing.forEach(id -> doThrow(new SessionStoreUnavailableException("claim failed",
                new JedisDataException("ERR script"))).when(repository).expire(id));

        new ExpirySweeper(repository, clock).sweep();

        verify(repository).expire("last");
        failing.forEach(id -> verify(repository).expire(id));
    }

    @Test
    void aSessionWhoseRestoreFailsIsSkippedAndTheSweepGoesOn() {
        when(store.dueForExpiry(5_000_000L, ExpirySweeper.BATCH_SIZE)).thenReturn(List.of("A", "B"));
        doThrow(new IllegalStateException("a defect")).when(repository).expire("A");

        new ExpirySweeper(repository, clock).sweep();

        verify(repository).expire("B");
    }

    @Test
    void redisNotAnsweringEndsTheRun() {
        when(store.dueForExpiry(5_000_000L, ExpirySweeper.BATCH_SIZE)).thenReturn(List.of("A", "B"));
        SessionStoreUnavailableException timeout = new SessionStoreUnavailableException("claim failed",
                new JedisConnectionException("Read timed out"));
        doThrow(timeout).when(repository).expire("A");

        assertThatThrownBy(() -> new ExpirySweeper(repository, clock).sweep()).isSameAs(timeout);
        verify(repository, never()).expire("B");
    }

    @Test
    void eachRunAuditsTheNextWindowOfTheIndex() {
        when(store.dueForExpiry(anyLong(), anyInt())).thenReturn(Collections.emptyList());
        RedisSessionStore.IndexPosition next = new RedisSessionStore.IndexPosition(0, 1000);
        when(store.auditIndex(RedisSessionStore.IndexPosition.START)).thenReturn(next);
        when(store.auditIndex(next)).thenReturn(RedisSessionStore.IndexPosition.START);
        ExpirySweeper sweeper = new ExpirySweeper(repository, clock);

        sweeper.sweep();
        sweeper.sweep();

        verify(store).auditIndex(RedisSessionStore.IndexPosition.START);
        verify(store).auditIndex(next);
    }
}
