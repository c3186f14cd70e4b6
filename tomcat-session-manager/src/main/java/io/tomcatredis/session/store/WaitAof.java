package io.tomcatredis.session.store;

/**
 * What {@code WAITAOF numlocal numreplicas timeout} (Redis 7.2+, Valkey 7.2+) waits for after each
 * save: the master's append-only file fsynced ({@code local}), and that of {@code replicas} replicas.
 *
 * @param local    {@code waitAofLocal}: wait for the master's own fsync (numlocal 1); needs {@code appendonly yes}
 * @param replicas {@code waitAofReplicas}: how many replicas must have fsynced the save, 0..100
 */
public record WaitAof(boolean local, int replicas) {

    /** No WAITAOF: the default. */
    public static final WaitAof NONE = new WaitAof(false, 0);

    public WaitAof {
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas must be >= 0, was " + replicas);
        }
    }

    /** Whether saves send WAITAOF at all. */
    public boolean enabled() {
        return local || replicas > 0;
    }

    /** WAITAOF's numlocal argument: 1 or 0. */
    long numLocal() {
        return local ? 1 : 0;
    }
}
