package io.tomcatredis.cache;

import java.util.Set;

/**
 * What a render that was not stored leaves on its URL for every client, for {@code markMillis}
 * (Varnish's hit-for-pass and hit-for-miss). "Pass" (nobody waits, nobody tries to store) only
 * when the reason lies in the URL itself: a reason that holds for every request
 * ({@link BypassReason#inherent()}), a render that read nothing of the request outside its key (no
 * header, session, user, cookie, address, attribute set ahead, body), and, for a status, one that
 * says something about the resource rather than about the request. Anything a client can cause
 * (a 304, 206, 406, 412 or 416, a 5xx, a 401 or 403 after reading a credential, a header the page
 * read) leaves "miss": the next requests render without waiting for each other and store the
 * response when it is storable, so no client can switch caching off for others.
 */
final class HitForPass {

    /**
     * Statuses that describe the resource whatever the request (a redirect set with
     * {@code setStatus}, a resource that is forbidden or gone for legal reasons, a method not
     * allowed on it). The others are never proof: 304, 206, 412, 416 answer preconditions and
     * ranges, 400, 406, 411, 413-415, 417, 421, 429, 431 the request's form and size, 5xx a
     * failure of the moment.
     */
    static final Set<Integer> RESOURCE_STATUSES = Set.of(201, 202, 205, 302, 303, 307, 403, 405, 451);

    /** How long a mark lasts, in ms. */
    static final long MARK_MILLIS = 60_000;

    private HitForPass() {
    }

    /**
     * @param reason why the render was not stored
     * @param credentialed whether the request carried credentials: it leaves no mark at all
     */
    static CacheStore.Mark mark(BypassReason reason, int status, ObservedRequest.Observation observation,
            boolean credentialed) {
        if (credentialed) {
            return CacheStore.Mark.NONE;
        }
        boolean independent = observation.reads().isEmpty() && observation.headersRead().isEmpty()
                && !observation.askedForIdentity();
        boolean ofTheUrl = reason.inherent() && independent
                && (reason != BypassReason.STATUS || RESOURCE_STATUSES.contains(status));
        return ofTheUrl ? CacheStore.Mark.PASS : CacheStore.Mark.MISS;
    }
}
