package io.tomcatredis.session;

import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * Expires sessions whose deadline passed, whether or not any node holds them in memory: every
 * node sweeps the expiry index, and an atomic claim in Redis lets exactly one node fire the
 * listeners. Bounded per run: at most {@value #MAX_BATCHES} batches of {@value #BATCH_SIZE}, and
 * one window of the index audit ({@link RedisSessionStore#auditIndex}), which removes entries of
 * sessions whose key vanished before their deadline (so the index, and the session count, never
 * keeps them). A run that ends at its bound with more due logs a warning: those sessions wait for
 * the next run, and one claimed more than {@link SessionKeys#TTL_GRACE_SECONDS} past its deadline
 * finds its keys gone and fires no listener (benchmarks/RESULTS.md, "Scale: a million sessions").
 *
 * <p>A session whose claim Redis refuses with an error (corrupt or foreign data under its keys) is
 * logged and skipped for the rest of the run, so it never stops the sweep at itself; at most
 * {@value #BATCH_SIZE} such sessions per run. When Redis does not answer, the run ends there.
 */
final class ExpirySweeper {

    private static final Log log = LogFactory.getLog(RedisSessionManager.class);

    static final int BATCH_SIZE = 100;
    static final int MAX_BATCHES = 100;

    private final RedisSessionStore store;
    private final SessionRepository repository;
    private final Clock clock;
    /** Where the next run's index audit goes on; runs of one manager never overlap (Tomcat's background thread). */
    private RedisSessionStore.IndexPosition auditFrom = RedisSessionStore.IndexPosition.START;

    ExpirySweeper(SessionRepository repository, Clock clock) {
        this.store = repository.store();
        this.repository = repository;
        this.clock = clock;
    }

    /**
     * Claims what is due, then audits one window of the index. The index is read with this node's
     * clock; each claim checks the deadline with Redis' clock, so a node whose clock runs ahead
     * never expires a session early.
     *
     * @return the number of index entries looked at for expiry
     * @throws SessionStoreUnavailableException when Redis does not answer
     */
    int sweep() {
        int seen = 0;
        boolean moreDue = false;
        Set<String> failed = new HashSet<>();
        for (int batch = 0; batch < MAX_BATCHES && failed.size() < BATCH_SIZE; batch++) {
            // The ids that failed are due still: ask for as many more.
            int limit = BATCH_SIZE + failed.size();
            List<String> due = store.dueForExpiry(clock.millis(), limit);
            int claimed = 0;
            for (String id : due) {
                if (!failed.contains(id)) {
                    claimed++;
                    if (!expire(id)) {
                        failed.add(id);
                    }
                }
            }
            seen += claimed;
            moreDue = due.size() == limit && claimed > 0;
            if (!moreDue) {
                break;
            }
        }
        if (moreDue) {
            // The bound is a count: past it, sessions wait a whole period, and one claimed after the
            // keys' TTL grace fires no listener (its hash is gone). Say so rather than lose them silently.
            log.warn("The expiry sweep stopped at its bound of " + seen + " sessions in one run with more due; they"
                    + " wait for the next run, and a session whose deadline passed more than "
                    + SessionKeys.TTL_GRACE_SECONDS + " s before its claim expires without its listeners");
        }
        auditFrom = store.auditIndex(auditFrom);
        return seen;
    }

    /** @return false when Redis refused this session's claim with an error, or restoring it failed */
    private boolean expire(String id) {
        try {
            repository.expire(id);
            return true;
        } catch (SessionStoreUnavailableException e) {
            if (!e.redisAnswered()) {
                throw e;
            }
            log.warn("Expiring session " + SessionIds.redact(id) + " failed, skipped until the next run: "
                    + e.getMessage());
            return false;
        } catch (RuntimeException e) {
            // A defect in restoring the expired session: the others must still expire.
            log.error("Expiring session " + SessionIds.redact(id) + " failed, skipped until the next run", e);
            return false;
        }
    }
}
