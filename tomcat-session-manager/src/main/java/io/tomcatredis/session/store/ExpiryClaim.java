package io.tomcatredis.session.store;

/**
 * The outcome of one session's expiry claim in a batch ({@link RedisSessionStore#claimExpired}).
 */
public sealed interface ExpiryClaim {

    /** The session id (index member) the claim was for. */
    String id();

    /** This node won: the listeners fire here, on what Redis held. */
    record Won(String id, StoredSession session) implements ExpiryClaim {
    }

    /** Nothing to do here: another node won, the session was used again and is not due, or it was removed. */
    record NotClaimed(String id) implements ExpiryClaim {
    }

    /**
     * The session's keys ended by their TTL ({@link SessionKeys#TTL_GRACE_SECONDS} past its deadline)
     * before any sweep claimed it: its listeners cannot fire any more. Its index entry is removed.
     */
    record Lapsed(String id) implements ExpiryClaim {
    }

    /** Redis refused this session's claim with an error (corrupt or foreign data under its keys). */
    record Refused(String id, String error) implements ExpiryClaim {
    }
}
