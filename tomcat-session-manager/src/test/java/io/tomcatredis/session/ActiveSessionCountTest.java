package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.tomcatredis.session.store.RedisSessionStore;
import org.junit.jupiter.api.Test;

class ActiveSessionCountTest {

    private final RedisSessionStore store = mock(RedisSessionStore.class);

    @Test
    void withOneIndexKeyEveryCallCountsExactly() {
        when(store.countIsOneCommand()).thenReturn(true);
        when(store.count()).thenReturn(3L, 4L);
        ActiveSessionCount count = new ActiveSessionCount(store, System::nanoTime);

        assertThat(count.get()).isEqualTo(3);
        assertThat(count.get()).isEqualTo(4);
        count.refreshIfUsed();
        verify(store, times(2)).count();
    }

    @Test
    void onClusterTheFirstCallCountsAndLaterOnesAddWhatThisNodeCreatedAndInvalidated() {
        when(store.count()).thenReturn(10L, 20L);
        ActiveSessionCount count = new ActiveSessionCount(store, System::nanoTime);

        assertThat(count.get()).isEqualTo(10);
        count.created();
        count.created();
        count.invalidated();
        assertThat(count.get()).isEqualTo(11);
        verify(store, times(1)).count();

        count.refreshIfUsed();
        assertThat(count.get()).as("the sweep's count, nothing created since").isEqualTo(20);
    }

    @Test
    void onClusterNobodyAskingMeansNoCount() {
        ActiveSessionCount count = new ActiveSessionCount(store, System::nanoTime);
        count.created();

        count.refreshIfUsed();

        verify(store, never()).count();
    }
}
