package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.never;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.tomcatredis.session.store.DueSessions;
import io.tomcatredis.session.store.ExpiryClaim;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionStoreStatistics;
import io.tomcatredis.session.store.StoredSession;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisConnectionException;

class ExpirySweeperTest {

    private static final long NOW = 5_000_000;
    private static final long PERIOD_MILLIS = 60_000;
    private static final long BUDGET_NANOS = PERIOD_MILLIS / ExpirySweeper.BUDGET_DIVISOR * 1_000_000;

    private final RedisSessionStore store = mock(RedisSessionStore.class);
    private final SessionRepository repository = mock(SessionRepository.class);
    private final Clock clock = Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC);
    /** Monotonic time as the sweeper reads it; a test moves it. */
    private final AtomicLong nanos = new AtomicLong();
    private final StoredSession stored = mock(StoredSession.class);
    private final SessionStoreStatistics statistics = new SessionStoreStatistics();

    ExpirySweeperTest() {
        when(repository.store()).thenReturn(store);
        when(store.statistics()).thenReturn(statistics);
        when(store.dueForExpiry(anyLong(), anyInt(), anyInt(), anyInt())).thenReturn(DueSessions.NONE);
        when(store.claimExpired(anyList(), anyList())).thenAnswer(invocation -> {
            List<String> ids = invocation.getArgument(0);
            return ids.stream().map(id -> (ExpiryClaim) new ExpiryClaim.Won(id, stored)).toList();
        });
    }

    private ExpirySweeper sweeper() {
        return new ExpirySweeper(repository, clock, nanos::get, () -> PERIOD_MILLIS, () -> 0);
    }

    private static List<String> ids(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + i).toList();
    }

    private void due(int limit, List<String>... batches) {
        var stubbing = when(store.dueForExpiry(NOW, limit, 0, ExpirySweeper.WINDOWS));
        for (List<String> batch : batches) {
            stubbing = stubbing.thenReturn(new DueSessions(batch, batch.size() * 10L, NOW - 1000));
        }
        stubbing.thenReturn(DueSessions.NONE);
    }

    @Test
    void claimsWhatTheIndexHasDueByTheInjectedClock() {
        due(ExpirySweeper.BATCH_SIZE, List.of("A", "B"));

        int seen = sweeper().sweep();

        assertThat(seen).isEqualTo(2);
        verify(repository).expired("A", stored);
        verify(repository).expired("B", stored);
    }

    @Test
    void claimsAreCountedByOutcomeAndTheLagOfEachWonClaimIsRecordedByTheInjectedClock() {
        StoredSession late = mock(StoredSession.class);
        when(late.maxInactiveInterval()).thenReturn(60);
        when(late.deadline()).thenReturn(NOW - 42_000);
        due(ExpirySweeper.BATCH_SIZE, List.of("A", "B", "C", "D"));
        when(store.claimExpired(anyList(), anyList())).thenReturn(List.of(new ExpiryClaim.Won("A", late),
                new ExpiryClaim.Lapsed("B"), new ExpiryClaim.NotClaimed("C"), new ExpiryClaim.Refused("D", "ERR")));

        sweeper().sweep();

        assertThat(statistics.expiryClaims().snapshot()).containsEntry("won", 1L).containsEntry("lapsed", 1L)
                .containsEntry("lost", 1L).containsEntry("refused", 1L);
        assertThat(statistics.expiryLagSeconds().count()).isEqualTo(1);
        assertThat(statistics.expiryLagSeconds().sum()).isEqualTo(42.0);
        // 42 s: above the 30 s bound, within the 60 s one
        assertThat(statistics.expiryLagSeconds().cumulativeCounts()[3]).isZero();
        assertThat(statistics.expiryLagSeconds().cumulativeCounts()[4]).isEqualTo(1);
    }

    @Test
    void aRunIsBoundedByTimeNotByCount() {
        List<String> full = ids("id", ExpirySweeper.BATCH_SIZE);
        when(store.dueForExpiry(NOW, ExpirySweeper.BATCH_SIZE, 0, ExpirySweeper.WINDOWS))
                .thenReturn(new DueSessions(full, 1_000_000, NOW - 1000));
        // Each batch's claims take a tenth of the budget.
        when(store.claimExpired(anyList(), anyList())).thenAnswer(invocation -> {
            nanos.addAndGet(BUDGET_NANOS / 10);
            return List.<ExpiryClaim>of();
        });

        int seen = sweeper().sweep();

        assertThat(seen).isEqualTo(10 * ExpirySweeper.BATCH_SIZE);
    }

    /** Benchmark MillionSessions: the old bound of 100 batches of 100 let a burst wait for 100 runs. */
    @Test
    void moreThanTheOldCountBoundAreClaimedInOneRunWhileTheBudgetLasts() {
        List<String> full = ids("id", ExpirySweeper.BATCH_SIZE);
        List<String>[] batches = new List[150];
        java.util.Arrays.fill(batches, full);
        due(ExpirySweeper.BATCH_SIZE, batches);

        List<LogRecord> warnings = warningsDuring(() -> assertThat(sweeper().sweep()).isEqualTo(15_000));

        assertThat(warnings).isEmpty();
    }

    @Test
    void aRunThatSpendsItsBudgetWithMoreDueWarnsWithTheCounts() {
        List<String> full = ids("id", ExpirySweeper.BATCH_SIZE);
        when(store.dueForExpiry(NOW, ExpirySweeper.BATCH_SIZE, 0, ExpirySweeper.WINDOWS))
                .thenReturn(new DueSessions(full, 5_000, NOW - 42_000));
        when(store.claimExpired(anyList(), anyList())).thenAnswer(invocation -> {
            nanos.addAndGet(BUDGET_NANOS);
            return List.<ExpiryClaim>of();
        });

        List<LogRecord> warnings = warningsDuring(() -> sweeper().sweep());

        assertThat(warnings).singleElement().satisfies(record -> assertThat(record.getMessage())
                .contains("spent its budget of 15000 ms").contains("on 100 sessions").contains("5000 are still due")
                .contains("the most overdue 42 s past its deadline").contains("their listeners late"));
        // Due more than 3 periods - grace (2 min) ago: the keys would end before the next run surely has.
        verify(store).keepDueAlive(NOW - 120_000, 3 * PERIOD_MILLIS + 300_000, 5_000);
    }

    @Test
    void theBudgetIsAQuarterOfTheExpiryPeriodOrOfTomcatsDefaultWithoutABackgroundThread() {
        assertThat(new ExpirySweeper(repository, clock, nanos::get, () -> 4_000).budgetMillis(0)).isEqualTo(1_000);
        assertThat(new ExpirySweeper(repository, clock, nanos::get, () -> 0).budgetMillis(0)).isEqualTo(15_000);
        assertThat(new ExpirySweeper(repository, clock, nanos::get, () -> 4_000).budgetMillis(4_000)).isEqualTo(1_000);
        assertThat(new ExpirySweeper(repository, clock, nanos::get, () -> 4_000).budgetMillis(4_001)).isEqualTo(4_000);
    }

    @Test
    void keysAreKeptForThreePeriodsAtLeastTwoMinutes() {
        assertThat(new ExpirySweeper(repository, clock, nanos::get, () -> 60_000).keepAliveHorizonMillis()).isEqualTo(180_000);
        assertThat(new ExpirySweeper(repository, clock, nanos::get, () -> 10_000).keepAliveHorizonMillis()).isEqualTo(120_000);
    }

    /**
     * Benchmark MillionSessions: a million due at once, a quarter-period budget, a run every period:
     * the last ones would be claimed after their keys' grace. More than a period behind, a run
     * goes on for the whole period.
     */
    @Test
    void aRunMoreThanAPeriodBehindGoesOnForTheWholePeriod() {
        List<String> full = ids("id", ExpirySweeper.BATCH_SIZE);
        when(store.dueForExpiry(NOW, ExpirySweeper.BATCH_SIZE, 0, ExpirySweeper.WINDOWS))
                .thenReturn(new DueSessions(full, 1_000_000, NOW - PERIOD_MILLIS - 1));
        when(store.claimExpired(anyList(), anyList())).thenAnswer(invocation -> {
            nanos.addAndGet(BUDGET_NANOS / 10);
            return List.<ExpiryClaim>of();
        });

        int seen = sweeper().sweep();

        assertThat(seen).isEqualTo(ExpirySweeper.BUDGET_DIVISOR * 10 * ExpirySweeper.BATCH_SIZE);
    }

    @Test
    void aRunThatClaimsEverythingDueDoesNotWarn() {
        List<String> full = ids("id", ExpirySweeper.BATCH_SIZE);
        due(ExpirySweeper.BATCH_SIZE, full, full, List.of("last"));

        List<LogRecord> warnings = warningsDuring(() -> sweeper().sweep());

        assertThat(warnings).isEmpty();
        verify(repository).expired("last", stored);
        verify(store, never()).keepDueAlive(anyLong(), anyLong(), anyLong());
    }

    @Test
    void claimKeysOfABatchAreReleasedWithTheNextBatchAndAtTheEnd() {
        due(ExpirySweeper.BATCH_SIZE, List.of("A"), List.of("B"));

        sweeper().sweep();

        verify(store).claimExpired(List.of("A"), List.of());
        verify(store).claimExpired(List.of("B"), List.of("A"));
        verify(store).releaseClaims(List.of("B"));
    }

    @Test
    void eachBatchReadsTheWindowItDraws() {
        int[] draws = {3, 7};
        int[] next = {0};
        when(store.dueForExpiry(NOW, ExpirySweeper.BATCH_SIZE, 3, ExpirySweeper.WINDOWS))
                .thenReturn(new DueSessions(List.of("A"), 2, NOW));
        new ExpirySweeper(repository, clock, nanos::get, () -> PERIOD_MILLIS, () -> draws[next[0]++ % 2]).sweep();

        verify(store).dueForExpiry(NOW, ExpirySweeper.BATCH_SIZE, 3, ExpirySweeper.WINDOWS);
        verify(store).dueForExpiry(NOW, ExpirySweeper.BATCH_SIZE, 7, ExpirySweeper.WINDOWS);
    }

    @Test
    void sessionsWhoseKeysEndedBeforeAnyClaimAreCountedAndLoggedNotLostSilently() {
        due(ExpirySweeper.BATCH_SIZE, List.of("A", "B", "C"));
        when(store.claimExpired(eq(List.of("A", "B", "C")), anyList())).thenReturn(List.of(
                new ExpiryClaim.Lapsed("A"), new ExpiryClaim.Lapsed("B"), new ExpiryClaim.Won("C", stored)));

        List<LogRecord> warnings = warningsDuring(() -> sweeper().sweep());

        assertThat(warnings).singleElement().satisfies(record -> assertThat(record.getMessage())
                .startsWith("2 sessions expired without their listeners").contains("300 s"));
        verify(repository).expired("C", stored);
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
        assertThat(sweeper().sweep()).isZero();
        verify(store, never()).claimExpired(anyList(), anyList());
        verify(repository, never()).expired(anyString(), any());
    }

    @Test
    void aSessionWhoseClaimRedisRefusesIsSkippedAndTheSweepGoesOn() {
        due(ExpirySweeper.BATCH_SIZE, List.of("A", "B"));
        when(store.claimExpired(eq(List.of("A", "B")), anyList())).thenReturn(List.of(
                new ExpiryClaim.Refused("A", "WRONGTYPE"), new ExpiryClaim.Won("B", stored)));

        int seen = sweeper().sweep();

        assertThat(seen).isEqualTo(2);
        verify(repository).expired("B", stored);
    }

    @Test
    void sessionsWhoseClaimFailsAreAskedPastSoTheRestIsStillExpired() {
        List<String> failing = ids("bad", 10);
        List<String> first = new ArrayList<>(failing);
        first.addAll(ids("ok", ExpirySweeper.BATCH_SIZE - 10));
        List<String> second = new ArrayList<>(failing);
        second.add("last");
        due(ExpirySweeper.BATCH_SIZE, first);
        due(ExpirySweeper.BATCH_SIZE + 10, second);
        when(store.claimExpired(eq(first), anyList())).thenAnswer(invocation -> first.stream()
                .map(id -> id.startsWith("bad") ? new ExpiryClaim.Refused(id, "ERR script")
                        : (ExpiryClaim) new ExpiryClaim.Won(id, stored)).toList());

        sweeper().sweep();

        verify(store).claimExpired(eq(List.of("last")), anyList());
        verify(repository).expired("last", stored);
    }

    @Test
    void aWindowOfOnlyFailedSessionsFallsBackToTheHeadOfTheDueRange() {
        List<String> failing = ids("bad", 10);
        when(store.dueForExpiry(NOW, ExpirySweeper.BATCH_SIZE, 5, ExpirySweeper.WINDOWS))
                .thenReturn(new DueSessions(failing, 500, NOW));
        when(store.dueForExpiry(NOW, ExpirySweeper.BATCH_SIZE + 10, 5, ExpirySweeper.WINDOWS))
                .thenReturn(new DueSessions(failing, 500, NOW));
        when(store.dueForExpiry(NOW, ExpirySweeper.BATCH_SIZE + 10, 0, ExpirySweeper.WINDOWS))
                .thenReturn(new DueSessions(List.of("head"), 500, NOW), DueSessions.NONE);
        when(store.claimExpired(eq(failing), anyList()))
                .thenReturn(failing.stream().map(id -> (ExpiryClaim) new ExpiryClaim.Refused(id, "ERR")).toList());

        new ExpirySweeper(repository, clock, nanos::get, () -> PERIOD_MILLIS, () -> 5).sweep();

        verify(repository).expired("head", stored);
    }

    @Test
    void aSessionWhoseRestoreFailsIsSkippedAndTheSweepGoesOn() {
        due(ExpirySweeper.BATCH_SIZE, List.of("A", "B"));
        doThrow(new IllegalStateException("a defect")).when(repository).expired("A", stored);

        sweeper().sweep();

        verify(repository).expired("B", stored);
    }

    @Test
    void redisNotAnsweringEndsTheRun() {
        due(ExpirySweeper.BATCH_SIZE, List.of("A", "B"));
        SessionStoreUnavailableException timeout = new SessionStoreUnavailableException("claim failed",
                new JedisConnectionException("Read timed out"));
        when(store.claimExpired(anyList(), anyList())).thenThrow(timeout);

        assertThatThrownBy(() -> sweeper().sweep()).isSameAs(timeout);
        verify(repository, never()).expired(anyString(), any());
        verify(store, never()).auditIndex(any());
    }

    @Test
    void eachRunAuditsTheNextWindowOfTheIndex() {
        RedisSessionStore.IndexPosition next = new RedisSessionStore.IndexPosition(0, 1000);
        when(store.auditIndex(RedisSessionStore.IndexPosition.START)).thenReturn(next);
        when(store.auditIndex(next)).thenReturn(RedisSessionStore.IndexPosition.START);
        ExpirySweeper sweeper = sweeper();

        sweeper.sweep();
        sweeper.sweep();

        verify(store).auditIndex(RedisSessionStore.IndexPosition.START);
        verify(store).auditIndex(next);
    }
}
