package io.tomcatredis.session;

import io.tomcatredis.session.store.RedisSessionStore;
import java.time.Clock;
import java.util.List;

/**
 * Expires sessions whose deadline passed, whether or not any node holds them in memory: every
 * node sweeps the expiry index, and an atomic claim in Redis lets exactly one node fire the
 * listeners. Bounded per run: at most {@value #MAX_BATCHES} batches of {@value #BATCH_SIZE}.
 */
final class ExpirySweeper {

    static final int BATCH_SIZE = 100;
    static final int MAX_BATCHES = 100;

    private final RedisSessionStore store;
    private final SessionRepository repository;
    private final Clock clock;

    ExpirySweeper(SessionRepository repository, Clock clock) {
        this.store = repository.store();
        this.repository = repository;
        this.clock = clock;
    }

    /**
     * Claims what is due. The index is read with this node's clock; each claim checks the deadline
     * with Redis' clock, so a node whose clock runs ahead never expires a session early.
     *
     * @return the number of index entries looked at
     * @throws io.tomcatredis.session.store.SessionStoreUnavailableException when Redis fails
     */
    int sweep() {
        int seen = 0;
        for (int batch = 0; batch < MAX_BATCHES; batch++) {
            List<String> due = store.dueForExpiry(clock.millis(), BATCH_SIZE);
            for (String id : due) {
                repository.expire(id);
            }
            seen += due.size();
            if (due.size() < BATCH_SIZE) {
                break;
            }
        }
        return seen;
    }
}
