package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.tomcatredis.session.store.RedisSessionStore;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

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

    @Test
    void nothingDueClaimsNothing() {
        when(store.dueForExpiry(org.mockito.ArgumentMatchers.anyLong(), anyInt())).thenReturn(Collections.emptyList());
        assertThat(new ExpirySweeper(repository, clock).sweep()).isZero();
        verify(repository, times(0)).expire(anyString());
    }
}
