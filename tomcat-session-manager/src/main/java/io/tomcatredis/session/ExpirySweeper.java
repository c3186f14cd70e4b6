package io.tomcatredis.session;

import io.tomcatredis.session.store.DueSessions;
import io.tomcatredis.session.store.ExpiryClaim;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * Expires sessions whose deadline passed, whether or not any node holds them in memory: every
 * node sweeps the expiry index, and an atomic claim in Redis lets exactly one node fire the
 * listeners.
 *
 * <p><b>Bounded by time, not by count.</b> A run ({@code processExpires()}, every
 * {@code processExpiresFrequency} x {@code backgroundProcessorDelay}: 60 s by default) claims batch
 * after batch of {@value #BATCH_SIZE} due sessions while any are due, until its budget is spent: a
 * {@value #BUDGET_DIVISOR}th of that expiry period (15 s by default; the period counts as
 * {@value #DEFAULT_PERIOD_MILLIS} ms when no background thread runs the manager), so Tomcat's
 * background thread, which serves every context of the host in turn, is never held for long. While
 * the sweep is behind by more than a period (the most overdue session it sees is more than a
 * period past its deadline) the budget is the whole period: sessions not claimed within
 * {@link SessionKeys#TTL_GRACE_SECONDS} of their deadline lose their listeners, and that matters
 * more than the timeliness of the host's other background work (the slower safe thing). The
 * budget is checked before each batch: a run always claims at least one batch, and may overrun its
 * budget by one batch. Then it audits one window of the index ({@link RedisSessionStore#auditIndex}),
 * which removes entries of sessions whose key vanished before their deadline (so the index, and
 * the session count, never keeps them).
 *
 * <p><b>Per batch, two round trips</b>: {@code due.lua} reads the due ids; one pipeline runs
 * {@code claim.lua} for each of them, together with the {@code DEL} of the claim keys of the batch
 * before, whose listeners have run ({@link RedisSessionStore#claimExpired}); the listeners of the
 * sessions won fire here, one after another. So a run's rate is set by Redis' script time and the
 * listeners, not by round trips (benchmarks/RESULTS.md, "Expiry sweep with 1,000,000 due sessions").
 *
 * <p><b>Several nodes add capacity</b>: each batch reads a window drawn at random among the first
 * {@value #WINDOWS} windows of {@value #BATCH_SIZE} of the due range (with Redis Cluster, among
 * {@value #WINDOWS} sixteenths of the index keys), so nodes sweeping at the same time mostly claim
 * different sessions, while all of them work on the most overdue ones.
 *
 * <p><b>A backlog is never lost silently.</b> Sessions are claimed most overdue first. A run that
 * spends its budget with more due logs a WARN with how many are due and how late the most overdue
 * is, and keeps the keys of the sessions still due that would otherwise lose them before the next
 * run has ended ({@link RedisSessionStore#keepDueAlive}, see {@link #keepAliveHorizonMillis}): the
 * TTL follows the backlog, since a session's keys otherwise live only
 * {@link SessionKeys#TTL_GRACE_SECONDS} past its deadline. One that no sweep
 * reached while its keys lived (no node ran a sweep for that long, or Redis evicted the keys) has
 * no state left to fire listeners with: its claim removes its index entry, and the run logs a WARN
 * with how many such sessions expired without their listeners.
 *
 * <p>The index is read with this node's clock; each claim checks the deadline with Redis' clock,
 * so a node whose clock runs ahead never expires a session early. A session whose claim Redis
 * refuses with an error (corrupt or foreign data under its keys) is logged and skipped for the
 * rest of the run, so it never stops the sweep at itself; a run ends after {@value #BATCH_SIZE}
 * such sessions. When Redis does not answer, the run ends there.
 */
final class ExpirySweeper {

    private static final Log log = LogFactory.getLog(RedisSessionManager.class);

    static final int BATCH_SIZE = 100;
    /** A run's budget is the expiry period divided by this. */
    static final int BUDGET_DIVISOR = 4;
    /** The expiry period assumed when no background thread runs the manager (Tomcat's default: 6 x 10 s). */
    static final long DEFAULT_PERIOD_MILLIS = 60_000;
    /** The shortest time ahead for which a run that ends behind keeps the keys of what is due. */
    static final long MIN_HORIZON_MILLIS = 120_000;
    /** How many windows of the due range nodes spread their reads over. */
    static final int WINDOWS = 16;

    private final RedisSessionStore store;
    private final SessionRepository repository;
    private final Clock clock;
    private final LongSupplier ticker;
    private final LongSupplier periodMillis;
    private final IntSupplier window;
    /** Where the next run's index audit goes on; runs of one manager never overlap (Tomcat's background thread). */
    private RedisSessionStore.IndexPosition auditFrom = RedisSessionStore.IndexPosition.START;

    /**
     * @param clock        wall clock: what is due (epoch ms)
     * @param ticker       monotonic nanoseconds (as {@link System#nanoTime}): a run's budget
     * @param periodMillis the expiry period, ms; 0 or less when no background thread runs the manager
     */
    ExpirySweeper(SessionRepository repository, Clock clock, LongSupplier ticker, LongSupplier periodMillis) {
        this(repository, clock, ticker, periodMillis, () -> ThreadLocalRandom.current().nextInt(WINDOWS));
    }

    /** @param window draws the window of the due range each batch reads, 0 to {@value #WINDOWS} - 1 */
    ExpirySweeper(SessionRepository repository, Clock clock, LongSupplier ticker, LongSupplier periodMillis,
            IntSupplier window) {
        this.store = repository.store();
        this.repository = repository;
        this.clock = clock;
        this.ticker = ticker;
        this.periodMillis = periodMillis;
        this.window = window;
    }

    /**
     * A run's budget, ms: a {@value #BUDGET_DIVISOR}th of the expiry period, or the whole period
     * while the sweep is behind by more than a period.
     *
     * @param behindMillis how long past its deadline the most overdue session this run saw is, ms
     */
    long budgetMillis(long behindMillis) {
        long period = periodMillis.getAsLong() > 0 ? periodMillis.getAsLong() : DEFAULT_PERIOD_MILLIS;
        return behindMillis > period ? period : period / BUDGET_DIVISOR;
    }

    /**
     * Claims what is due until nothing is or the budget is spent, then audits one window of the index.
     *
     * @return the number of index entries claimed (won, lost to another node, or found gone)
     * @throws SessionStoreUnavailableException when Redis does not answer
     */
    int sweep() {
        long start = ticker.getAsLong();
        long behindMillis = 0;
        Set<String> failed = new HashSet<>();
        // Ids this run claimed without winning: those that left the index are never read again; those
        // read again are live by Redis' clock though due by this node's (its clock runs ahead), and
        // claiming them again would only spin until the budget is spent.
        Set<String> notDue = new HashSet<>();
        List<String> release = List.of();
        int seen = 0;
        int lapsed = 0;
        boolean headOnly = false;
        boolean moreDue = false;
        boolean lastLeftSome = false;
        DueSessions due = DueSessions.NONE;
        while (failed.size() < BATCH_SIZE) {
            if (seen > 0 && (ticker.getAsLong() - start) / 1_000_000 >= budgetMillis(behindMillis)) {
                moreDue = lastLeftSome;
                break;
            }
            // The ids that failed are due still: ask for as many more.
            int limit = BATCH_SIZE + failed.size();
            due = store.dueForExpiry(clock.millis(), limit, headOnly ? 0 : window.getAsInt(), WINDOWS);
            List<String> ids = new ArrayList<>(due.ids());
            ids.removeAll(failed);
            ids.removeAll(notDue);
            if (ids.isEmpty()) {
                if (headOnly || due.ids().isEmpty()) {
                    break;
                }
                // A window of only sessions that failed: the head window holds others, if any are due.
                headOnly = true;
                continue;
            }
            headOnly = false;
            if (due.mostOverdueDeadline() >= 0) {
                behindMillis = Math.max(behindMillis, clock.millis() - due.mostOverdueDeadline());
            }
            List<ExpiryClaim> claims;
            try {
                claims = store.claimExpired(ids, release);
            } catch (SessionStoreUnavailableException e) {
                // Redis may have run the claims and lost only the answers: the sessions it handed to
                // this node then end without their listeners. Rare (a cut mid-pipeline), never silent.
                log.warn("The expiry claims of " + ids.size() + " sessions got no answer from Redis; those it ran"
                        + " expired without their listeners (sessionDestroyed, valueUnbound)");
                throw e;
            }
            List<String> won = new ArrayList<>();
            for (ExpiryClaim claim : claims) {
                if (claim instanceof ExpiryClaim.Won w) {
                    won.add(w.id());
                    long lateMillis = -1;
                    if (w.session().maxInactiveInterval() > 0) {
                        lateMillis = Math.max(0, clock.millis() - w.session().deadline());
                        // Where the index read cannot tell (Redis Cluster), the sessions claimed do.
                        behindMillis = Math.max(behindMillis, lateMillis);
                    }
                    store.statistics().expiryClaim("won", lateMillis);
                    fireListeners(w);
                } else if (claim instanceof ExpiryClaim.Lapsed) {
                    store.statistics().expiryClaim("lapsed", -1);
                    lapsed++;
                } else if (claim instanceof ExpiryClaim.Refused refused) {
                    store.statistics().expiryClaim("refused", -1);
                    log.warn("Expiring session " + SessionIds.redact(refused.id()) + " failed, skipped until the next run: "
                            + refused.error());
                    failed.add(refused.id());
                } else {
                    // another node won it, or it was used again and is not due by Redis' clock
                    store.statistics().expiryClaim("lost", -1);
                    notDue.add(claim.id());
                    repository.expired(claim.id(), null);
                }
            }
            release = won;
            seen += ids.size();
            lastLeftSome = due.count() < 0 ? due.ids().size() >= limit : due.count() > ids.size();
        }
        store.releaseClaims(release);
        if (lapsed > 0) {
            log.warn(lapsed + " sessions expired without their listeners (sessionDestroyed, valueUnbound): no sweep"
                    + " reached them within " + SessionKeys.TTL_GRACE_SECONDS + " s of their deadline, and Redis had"
                    + " removed their keys; the sweep does not keep up with the expiry rate");
        }
        if (moreDue) {
            warnBacklog(seen, budgetMillis(behindMillis), due);
            // What is due and would lose its keys before the next run has surely ended keeps them until then.
            long horizon = keepAliveHorizonMillis();
            long now = clock.millis();
            store.keepDueAlive(Math.min(now, now + horizon - SessionKeys.TTL_GRACE_SECONDS * 1000),
                    horizon + SessionKeys.TTL_GRACE_SECONDS * 1000, due.count());
        }
        auditFrom = store.auditIndex(auditFrom);
        return seen;
    }

    /**
     * How far ahead a run that ends behind keeps keys, ms: until the next run (a period away, up to
     * a period long, and overrunning by a batch and this keeping) has surely ended: three periods,
     * at least {@value #MIN_HORIZON_MILLIS} ms. Sessions due whose keys would end within that
     * ({@code deadline + grace < now + horizon}: the index score tells, no key is read) get
     * {@code horizon + grace} more; the others are left alone, so a backlog costs this work only
     * for what is at risk, and each run that ends behind looks again.
     */
    long keepAliveHorizonMillis() {
        long period = periodMillis.getAsLong() > 0 ? periodMillis.getAsLong() : DEFAULT_PERIOD_MILLIS;
        return Math.max(3 * period, MIN_HORIZON_MILLIS);
    }

    /** Restores the won session and fires its listeners; a defect there must not stop the others. */
    private void fireListeners(ExpiryClaim.Won won) {
        try {
            repository.expired(won.id(), won.session());
        } catch (RuntimeException e) {
            log.error("Expiring session " + SessionIds.redact(won.id()) + " failed in its listeners or restore", e);
        }
    }

    private void warnBacklog(int seen, long budgetMillis, DueSessions due) {
        String count = due.count() < 0 ? "more are" : due.count() + " are";
        String oldest = due.mostOverdueDeadline() < 0 ? ""
                : ", the most overdue " + Math.max(0, clock.millis() - due.mostOverdueDeadline()) / 1000 + " s past its deadline";
        log.warn("The expiry sweep spent its budget of " + budgetMillis + " ms (a " + BUDGET_DIVISOR
                + "th of the expiry period, the whole period while more than a period behind) on " + seen
                + " sessions; " + count + " still due" + oldest
                + "; they wait for the next run, most overdue first, their listeners late (the keys of those that"
                + " would end before it are kept); add nodes or sweep more often if this persists");
    }
}
