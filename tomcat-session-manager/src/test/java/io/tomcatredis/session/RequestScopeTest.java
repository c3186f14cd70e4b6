package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyBoolean;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.tomcatredis.session.store.SessionStoreUnavailableException;
import org.junit.jupiter.api.Test;

/** Once a Redis call of a request failed, the request sends nothing more to Redis. */
class RequestScopeTest {

    private final SessionRepository repository = mock(SessionRepository.class);
    private final RequestScope scope = new RequestScope(repository);
    private final RedisSession session = mock(RedisSession.class);
    private final SessionStoreUnavailableException timeout = new SessionStoreUnavailableException("timed out", null);

    RequestScopeTest() {
        when(session.isLive()).thenReturn(true);
        when(session.getIdInternal()).thenReturn("A");
        scope.add(session);
    }

    @Test
    void afterAFailedCallTheEndOfTheRequestSavesNothingReleasesItsSessionsAndFails() {
        scope.markFailed(timeout);

        assertThatThrownBy(scope::complete).isSameAs(timeout);

        verify(repository, never()).save(any(), anyBoolean());
        verify(repository).release(session);
    }

    @Test
    void aFailedLookupAlsoEndsTheRequestsRedisCalls() {
        scope.markUnavailable("B", timeout);

        assertThatThrownBy(scope::saveBeforeCommit).isSameAs(timeout);
        assertThatThrownBy(scope::throwIfAnyUnavailable).isSameAs(timeout);
        verify(repository, never()).save(any(), anyBoolean());
    }

    @Test
    void aSaveThatFailedBeforeTheCommitIsNotSentAgainAtTheEnd() {
        doThrow(timeout).when(repository).save(session, false);

        assertThatThrownBy(scope::saveBeforeCommit).isSameAs(timeout);
        assertThatThrownBy(scope::complete).isSameAs(timeout);

        verify(repository).save(session, false);
        verify(repository, never()).save(session, true);
    }

    /**
     * The first save before commit is a full one (an old access time is written); the end of the
     * request then skips an access-only save of that session.
     */
    @Test
    void theFirstSaveBeforeCommitIsAFullSaveAndTheEndSkipsAnAccessOnlySave() {
        scope.saveBeforeCommit();
        scope.complete();

        verify(repository).save(session, false);
        verify(repository).save(session, true);
    }
}
