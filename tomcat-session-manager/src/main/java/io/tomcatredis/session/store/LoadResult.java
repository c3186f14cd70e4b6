package io.tomcatredis.session.store;

/** What {@link RedisSessionStore#load} found. */
public sealed interface LoadResult {

    /** Redis holds no session under this id. */
    record Absent() implements LoadResult {
    }

    /** The session's deadline passed (by Redis' clock); it awaits its claim. */
    record Expired() implements LoadResult {
    }

    /** The caller's copy carries the version Redis holds. */
    record Unchanged() implements LoadResult {
    }

    /** The session as Redis holds it. */
    record Loaded(StoredSession session) implements LoadResult {
    }

    LoadResult ABSENT = new Absent();
    LoadResult EXPIRED = new Expired();
    LoadResult UNCHANGED = new Unchanged();
}
