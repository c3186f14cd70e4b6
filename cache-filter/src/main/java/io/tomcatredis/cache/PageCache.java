package io.tomcatredis.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The cache's request flow, as phases that each end in an explicit action (Varnish's
 * {@code builtin.vcl} is the model): {@link RequestClassifier classification} (pass, or a
 * {@link CacheRequest} and its key), lookup ({@link CacheStore}: hit, stale, hit-for-pass, lease
 * or wait), render with observation ({@link ObservedRequest}, {@link CapturingResponse}), the
 * {@link Storability storability decision}, store, and {@link Delivery delivery}. A cold URL is
 * rendered once across all nodes: an in-process single flight plus a lease in Redis. With the
 * {@link LocalTier local tier} on, a fresh copy of a hit held by this node answers before the lookup.
 */
final class PageCache {

    private static final Logger LOG = Logger.getLogger(PageCache.class.getName());
    private static final long POLL_MILLIS = 20;

    /**
     * Where a render's result goes: the key looked up, the Vary marker that led there (or null),
     * and Redis' time of the lookup the render follows ({@link CacheStore.Lookup#since()}), which
     * an eviction after it makes the store discard.
     */
    private record Slot(String key, String markerVary, long since, String fwd) {

        Slot(String key, String markerVary) {
            this(key, markerVary, 0, markerVary == null ? "uri-miss" : "vary-miss");
        }

        Slot lookedUp(CacheStore.Lookup found) {
            return new Slot(key, markerVary, found.since(), fwd);
        }

        /**
         * Why a render goes to the application, as RFC 9211 {@code fwd}: {@code uri-miss},
         * {@code vary-miss}, {@code stale} (an entry due for refresh), {@code miss} (an entry not
         * for this request).
         */
        Slot forwardedAs(String why) {
            return new Slot(key, markerVary, since, why);
        }
    }

    private final CacheSettings settings;
    private final CacheStore store;
    private final CacheStatistics statistics;
    private final CircuitBreaker circuit;
    private final RequestClassifier classifier;
    private final EntryFactory entries;
    private final CacheStatus status;
    private final Delivery delivery;
    private final Clock clock;
    private final LocalTier localTier;
    private final MemoryPressure pressure;
    private final Map<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    /** Without a local tier. */
    PageCache(CacheSettings settings, CacheStore store, CacheStatistics statistics, Clock clock) {
        this(settings, store, statistics, clock, new LocalTier(CacheKeys.of(settings.keyPrefix(), settings.connection().topology()), 0,
                settings.localTierMaxLagMillis(), clock, Ticker.systemTicker()));
    }

    PageCache(CacheSettings settings, CacheStore store, CacheStatistics statistics, Clock clock, LocalTier localTier) {
        this.localTier = localTier;
        this.settings = settings;
        this.store = store;
        this.statistics = statistics;
        this.clock = clock;
        this.circuit = new CircuitBreaker(settings.circuitBreakerMillis(), clock);
        this.pressure = new MemoryPressure(settings.maxCacheBytes(), clock);
        statistics.circuit(() -> !circuit.allows());
        this.classifier = new RequestClassifier(settings);
        this.entries = new EntryFactory(settings.staleSeconds(), clock);
        this.status = new CacheStatus(settings.cacheStatusName(), settings.cacheStatus(), settings.xCache());
        this.delivery = new Delivery(clock, status, settings.forwardTagsHeader());
    }

    void handle(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        RequestClassifier.Classification classification = classifier.classify(request, response);
        if (classification.unsafe()) {
            statistics.unsafe();
            status.write(CacheStatus.Outcome.bypassed(BypassReason.METHOD), response);
            chain.doFilter(request, new TagStrippingResponse(response, settings.forwardTagsHeader()));
            if (response.getStatus() < 400 && classifier.hostAllowed(request) && !statistics.permissionDenied()) {
                evictAfterUnsafe(CanonicalUrl.of(request.getScheme(), request.getServerName(),
                        request.getServletContext().getContextPath() + CanonicalUrl.containerPath(request),
                        request.getQueryString()), CacheTags.groups(response.getHeaders("Cache-Group-Invalidation")));
            }
            return;
        }
        if (classification.pass() != null) {
            bypass(classification.pass(), request, response, chain);
            return;
        }
        if (statistics.permissionDenied()) {
            bypass(BypassReason.REDIS_PERMISSION, request, response, chain);
            return;
        }
        if (!circuit.allows()) {
            bypass(BypassReason.REDIS_UNAVAILABLE, request, response, chain);
            return;
        }
        CacheRequest cacheRequest = classification.request();
        boolean wantLease = !cacheRequest.head() && !cacheRequest.credentialed();
        CachedResponse local = fromLocalTier(cacheRequest, request, wantLease);
        if (local != null) {
            statistics.localHit();
            delivery.serve(local, CacheStatus.Outcome.served("HIT", local, clock.millis()), request, response);
            return;
        }
        String token = UUID.randomUUID().toString();
        Slot slot = new Slot(cacheRequest.baseKey(), null);
        CacheStore.Lookup found;
        // Before the lookup: a copy of its result is kept only if no invalidation came in since.
        long generation = localTier.generation();
        long lookedUpAt = clock.millis();
        try {
            found = store.lookup(slot.key(), token, settings.lockTimeoutMillis(), wantLease);
            if (found.varyHeaders() != null) {
                keepCopy(slot.key(), found, cacheRequest.url(), lookedUpAt, generation);
                slot = new Slot(CanonicalUrl.variant(cacheRequest.baseKey(), found.varyHeaders(), request),
                        found.varyHeaders());
                found = store.lookupEntry(slot.key(), token, settings.lockTimeoutMillis(), wantLease);
            }
            slot = slot.lookedUp(found);
            if (found.entry() != null) {
                keepCopy(slot.key(), found, cacheRequest.url(), lookedUpAt, generation);
            }
        } catch (CacheUnavailableException e) {
            redisFailed(e, 0);
            bypass(failure(e), request, response, chain);
            return;
        }
        if (found.varyHeaders() != null) {
            // A marker under a variant key again, right after the unreadable one went: never guess.
            bypass(BypassReason.UNCACHEABLE_URL, request, response, chain);
            return;
        }
        if (found.entry() != null && !cacheRequest.mayBeServed(found.entry())) {
            // Rendered for anonymous visitors, or not said to be shareable: not for credentials.
            if (cacheRequest.head()) {
                uncached(BypassReason.CREDENTIALS, request, response, chain);
            } else {
                render(slot.forwardedAs(found.outcome() == CacheStore.Outcome.STALE ? "stale" : "miss"), cacheRequest,
                        token, request, response, chain);
            }
            return;
        }
        switch (found.outcome()) {
            case HIT -> {
                if (settings.earlyRefresh() && wantLease && refreshEarly(found.entry())
                        && leaseForRefresh(slot.key(), token)) {
                    render(slot.forwardedAs("stale"), cacheRequest, token, request, response, chain);
                } else {
                    statistics.hit();
                    delivery.serve(found.entry(), CacheStatus.Outcome.served("HIT", found.entry(), clock.millis()),
                            request, response);
                }
            }
            case STALE -> {
                statistics.stale();
                // Before the stale copy changes them: what a filter ahead set, for the refresh's render.
                String encoding = response.getCharacterEncoding();
                Locale locale = response.getLocale();
                delivery.serve(found.entry(), CacheStatus.Outcome.served("STALE", found.entry(), clock.millis()),
                        request, response);
                if (found.refreshLease()) {
                    // Only a request that asked for a lease gets one: never a HEAD, never credentials.
                    refreshInBackground(slot, cacheRequest, token, request, response, chain,
                            new DetachedResponse(response, encoding, locale));
                }
            }
            case PASS -> {
                statistics.bypass(BypassReason.UNCACHEABLE_URL);
                uncached(BypassReason.UNCACHEABLE_URL, request, response, chain);
            }
            case LEASE -> render(slot, cacheRequest, token, request, response, chain);
            case FULL -> full(request, response, chain);
            case MISS -> {
                if (cacheRequest.head()) {
                    uncached(BypassReason.METHOD, request, response, chain);
                } else {
                    render(slot, cacheRequest, token, request, response, chain);
                }
            }
            case WAIT -> {
                if (cacheRequest.head()) {
                    uncached(BypassReason.METHOD, request, response, chain);
                } else if (cacheRequest.credentialed()) {
                    render(slot, cacheRequest, token, request, response, chain);
                } else {
                    awaitOrRender(slot, cacheRequest, token, request, response, chain);
                }
            }
        }
    }

    /**
     * The local tier's phase: a copy of an entry this node found in Redis, answered as a Redis hit
     * would be, or null (then Redis is asked). Only a copy that is fresh (the rule of {@link
     * CacheKeys#LOOKUP}: {@code freshUntil} after now) and may be served to this request; one due
     * for an early refresh, or stale, goes to Redis, where the refresh lease is.
     */
    private CachedResponse fromLocalTier(CacheRequest cacheRequest, HttpServletRequest request, boolean wantLease) {
        LocalTier.Copy copy = localTier.get(cacheRequest.baseKey());
        if (copy != null && copy.varyHeaders() != null) {
            copy = localTier.get(CanonicalUrl.variant(cacheRequest.baseKey(), copy.varyHeaders(), request));
        }
        if (copy == null || copy.entry() == null) {
            return null;
        }
        CachedResponse entry = copy.entry();
        if (entry.freshUntil() <= clock.millis() || !cacheRequest.mayBeServed(entry)
                || settings.earlyRefresh() && wantLease && refreshEarly(entry)) {
            return null;
        }
        return entry;
    }

    /**
     * Keeps a copy of a hit (an entry or a Vary marker) in the local tier, used until it stops being
     * fresh or until its key's TTL in Redis ends, counted from before the lookup.
     */
    private void keepCopy(String key, CacheStore.Lookup found, String url, long lookedUpAt, long generation) {
        if (found.outcome() != CacheStore.Outcome.HIT || found.ttlMillis() < 0) {
            // A stale entry (Redis holds its refresh lease), or the tier is off (no TTL asked for).
            return;
        }
        long until = lookedUpAt + found.ttlMillis();
        if (found.entry() != null) {
            until = Math.min(until, found.entry().freshUntil());
        }
        localTier.put(key, new LocalTier.Copy(found.entry(), found.varyHeaders(), url, until), generation);
    }

    /**
     * After a successful unsafe request: evicts its URL and the groups its response names in
     * {@code Cache-Group-Invalidation} (RFC 9875), unless the circuit is open (Redis is then
     * skipped, as for every other request, and the eviction is logged as lost); a failure opens it.
     */
    private void evictAfterUnsafe(String url, List<String> groups) {
        if (!circuit.allows()) {
            statistics.bypass(BypassReason.REDIS_UNAVAILABLE);
            LOG.warning("Redis is skipped for " + settings.circuitBreakerMillis() + " ms after a failure: the entry of "
                    + url + (groups.isEmpty() ? "" : " and the groups " + groups)
                    + " were not evicted after an unsafe request");
            return;
        }
        try {
            evictUrl(url);
            // RFC 9875 Cache-Group-Invalidation: the groups are tags of this cache.
            for (String group : groups) {
                evictTag(group);
            }
        } catch (CacheUnavailableException e) {
            LOG.warning("The entry of " + url + (groups.isEmpty() ? "" : " or the groups " + groups)
                    + " were not evicted after an unsafe request");
        }
    }

    /**
     * Evicts the entry (and variants) of a canonical URL.
     *
     * @throws CacheUnavailableException when Redis fails (the circuit is then open)
     */
    long evictUrl(String url) {
        try {
            long count = store.evictUrl(url, settings.maxCacheBytes());
            statistics.evicted("url", count);
            return count;
        } catch (CacheUnavailableException e) {
            redisFailed(e);
            throw e;
        } finally {
            // This node's copies go at once; other nodes' when the script's messages reach them.
            localTier.evictedUrl(url);
        }
    }

    /**
     * @throws CacheUnavailableException when Redis fails (the circuit is then open)
     */
    long evictTag(String tag) {
        try {
            long count = store.evictTag(tag, settings.maxCacheBytes());
            statistics.evicted("tag", count);
            return count;
        } catch (CacheUnavailableException e) {
            redisFailed(e);
            throw e;
        } finally {
            localTier.evictedTag(tag);
        }
    }

    private void bypass(BypassReason reason, HttpServletRequest request, HttpServletResponse response,
            FilterChain chain) throws IOException, ServletException {
        statistics.bypass(reason);
        statistics.passed();
        if (reason != BypassReason.DISPATCH) {
            // A dispatch is part of a request whose own pass through the filter says what happened.
            status.write(CacheStatus.Outcome.bypassed(reason), response);
        }
        chain.doFilter(request, new TagStrippingResponse(response, settings.forwardTagsHeader()));
    }

    /** To the application uncached, after the lookup: a HEAD, a "pass" mark, a lock timeout. */
    private void uncached(BypassReason why, HttpServletRequest request, HttpServletResponse response,
            FilterChain chain) throws IOException, ServletException {
        statistics.miss();
        status.write(CacheStatus.Outcome.uncached(why), response);
        chain.doFilter(request, new TagStrippingResponse(response, settings.forwardTagsHeader()));
    }

    /** Waits for the render of another request (this node's, or another node's via Redis). */
    private void awaitOrRender(Slot slot, CacheRequest cacheRequest, String token, HttpServletRequest request,
            HttpServletResponse response, FilterChain chain) throws IOException, ServletException {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(settings.lockTimeoutMillis());
        CompletableFuture<Void> local = inFlight.get(slot.key());
        if (local != null) {
            try {
                local.get(settings.lockTimeoutMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // The local render failed or is slow: ask Redis, then render uncached.
            } catch (InterruptedException e) {
                statistics.lockWaited(System.nanoTime() - start);
                Thread.currentThread().interrupt();
                throw new ServletException("Interrupted while waiting for a cache render", e);
            }
        }
        Slot waitingOn = slot;
        while (true) {
            CacheStore.Lookup found;
            try {
                found = waitingOn.markerVary() == null
                        ? store.lookup(waitingOn.key(), token, settings.lockTimeoutMillis(), true)
                        : store.lookupEntry(waitingOn.key(), token, settings.lockTimeoutMillis(), true);
            } catch (CacheUnavailableException e) {
                statistics.lockWaited(System.nanoTime() - start);
                redisFailed(e, 0);
                bypass(failure(e), request, response, chain);
                return;
            }
            if (found.varyHeaders() != null && waitingOn.markerVary() == null) {
                // The render stored a variant: wait for (or render) this request's one.
                waitingOn = new Slot(CanonicalUrl.variant(cacheRequest.baseKey(), found.varyHeaders(), request),
                        found.varyHeaders());
                continue;
            }
            waitingOn = waitingOn.lookedUp(found);
            switch (found.entry() == null && found.varyHeaders() != null ? CacheStore.Outcome.WAIT
                    : found.outcome()) {
                case HIT, STALE -> {
                    statistics.lockWaited(System.nanoTime() - start);
                    statistics.coalesced();
                    statistics.hit();
                    delivery.serve(found.entry(), CacheStatus.Outcome.collapsed(), request, response);
                    return;
                }
                case LEASE, MISS -> {
                    statistics.lockWaited(System.nanoTime() - start);
                    render(waitingOn, cacheRequest, token, request, response, chain);
                    return;
                }
                case PASS -> {
                    statistics.lockWaited(System.nanoTime() - start);
                    uncached(BypassReason.UNCACHEABLE_URL, request, response, chain);
                    return;
                }
                case FULL -> {
                    statistics.lockWaited(System.nanoTime() - start);
                    full(request, response, chain);
                    return;
                }
                case WAIT -> {
                    if (System.nanoTime() - deadline > 0) {
                        statistics.lockWaited(System.nanoTime() - start);
                        statistics.bypass(BypassReason.LOCK_TIMEOUT);
                        statistics.rendered();
                        uncached(BypassReason.LOCK_TIMEOUT, request, response, chain);
                        return;
                    }
                    try {
                        Thread.sleep(POLL_MILLIS);
                    } catch (InterruptedException e) {
                        statistics.lockWaited(System.nanoTime() - start);
                        Thread.currentThread().interrupt();
                        throw new ServletException("Interrupted while waiting for a cache render", e);
                    }
                }
            }
        }
    }

    /** Renders with this request's lease (if it holds one), stores if storable, and delivers the result. */
    private void render(Slot slot, CacheRequest cacheRequest, String token, HttpServletRequest request,
            HttpServletResponse response, FilterChain chain) throws IOException, ServletException {
        statistics.miss();
        CompletableFuture<Void> flight = new CompletableFuture<>();
        inFlight.put(slot.key(), flight);
        try {
            ObservedRequest observed = ObservedRequest.of(new NeutralRequest(request), cacheRequest, settings);
            CapturingResponse capture = new CapturingResponse(response, settings.maxEntryBytes(), request,
                    observed::including,
                    (reason, code) -> status.write(CacheStatus.Outcome.rendered(slot.fwd(), code, reason), response));
            statistics.rendered();
            chain.doFilter(observed, capture);
            if (request.isAsyncStarted()) {
                capture.goThrough(BypassReason.ASYNC);
            }
            capture.finishWriting();
            finish(slot, cacheRequest, token, observed, capture, request, response);
        } catch (IOException | ServletException | RuntimeException | Error e) {
            // A failure of this request (a client gone, a bug hit by its input) says nothing of the URL.
            releaseQuietly(slot.key(), token, CacheStore.Mark.NONE);
            throw e;
        } finally {
            inFlight.remove(slot.key(), flight);
            flight.complete(null);
        }
    }

    /**
     * After serving a stale copy, renders again with a response that reaches nobody, and stores
     * the result: the client already has its answer.
     */
    private void refreshInBackground(Slot slot, CacheRequest cacheRequest, String token, HttpServletRequest request,
            HttpServletResponse response, FilterChain chain, DetachedResponse detached) {
        try {
            Delivery.complete(response);
            ObservedRequest observed = ObservedRequest.of(new NeutralRequest(request), cacheRequest, settings);
            CapturingResponse capture = new CapturingResponse(detached, settings.maxEntryBytes(), null,
                    observed::including,
                    (reason, code) -> { });
            statistics.rendered();
            chain.doFilter(observed, capture);
            capture.finishWriting();
            finish(slot, cacheRequest, token, observed, capture, request, null);
        } catch (CacheUnavailableException e) {
            redisFailed(e);
        } catch (IOException | ServletException | RuntimeException e) {
            // The client has its answer; the application's failure is reported as it would be without the cache.
            LOG.log(Level.WARNING, "Refreshing the stale entry of " + cacheRequest.url() + " failed; the stale copy"
                    + " is served until it expires, the next refresh in " + settings.lockTimeoutMillis() + " ms", e);
            backOffQuietly(slot.key(), token);
        }
    }

    /** The storability decision, the store, and delivery (when {@code response} is not null). */
    private void finish(Slot slot, CacheRequest cacheRequest, String token, ObservedRequest observed,
            CapturingResponse capture, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        CapturingResponse.Rendered rendered = capture.rendered();
        ObservedRequest.Observation observation = observed.observation();
        Storability.Decision decision = Storability.decide(cacheRequest, observation, rendered, clock);
        BypassReason reason = decision.reason();
        if (reason == null && request.getSession(false) != null) {
            // A session the render created through the container's own request (a holder of the
            // request ahead of the wrappers): the page may print it or link to it.
            reason = BypassReason.PERSONAL_SESSION;
        }
        if (reason == null && slot.markerVary() != null && !slot.markerVary().equals(decision.vary())) {
            // The response varies on other headers than its URL's marker says: its key would be wrong.
            reason = BypassReason.UNKEYED_HEADER;
        }
        if (reason != null) {
            statistics.bypass(reason);
            if (response == null) {
                // A refresh of a stale entry: the stale copy stays, and nobody refreshes again at once.
                backOffQuietly(slot.key(), token);
                return;
            }
            releaseQuietly(slot.key(), token, HitForPass.mark(reason, rendered.status(), observation,
                    cacheRequest.credentialed()));
            if (rendered.through() == null) {
                delivery.deliverUnstored(capture, rendered, CacheStatus.Outcome.rendered(slot.fwd(),
                        rendered.status(), reason), request, response);
            }
            return;
        }
        String entryKey = decision.vary().isEmpty() ? cacheRequest.baseKey()
                : CanonicalUrl.variant(cacheRequest.baseKey(), decision.vary(), request);
        CachedResponse entry = entries.build(entryKey, rendered, decision, observation.askedForIdentity());
        BypassReason notStored = null;
        try {
            if (!decision.vary().isEmpty()) {
                store.markVary(cacheRequest.baseKey(), decision.vary(), entry.staleUntil());
            }
            long evicted = store.store(entry, slot.key(), cacheRequest.url(), token, pressure.budget(),
                    slot.since());
            if (evicted == CacheStore.DISCARDED_EVICTED) {
                // Evicted while it rendered: the client gets what it asked for before; nobody else does.
                notStored = BypassReason.EVICTED;
                statistics.bypass(notStored);
            } else if (evicted == CacheStore.DISCARDED_OVER_BUDGET) {
                // Alone larger than its share of maxCacheBytes: kept, it would break the budget. Marked
                // as an oversized render is, so the next requests do not queue for a lease whose
                // render will be thrown away again (the store released this one).
                notStored = BypassReason.OVER_BUDGET;
                statistics.bypass(notStored);
                releaseQuietly(slot.key(), token, HitForPass.mark(notStored, rendered.status(), observation,
                        cacheRequest.credentialed()));
            } else {
                statistics.evicted("budget", evicted);
                statistics.stored();
            }
        } catch (CacheUnavailableException e) {
            redisFailed(e, entry.body().length);
            notStored = failure(e);
            // The store may have failed before it released the lease (a script error, a timeout):
            // nobody must wait lockTimeoutMillis for a render that has ended. Best effort.
            releaseQuietly(slot.key(), token, CacheStore.Mark.NONE);
        }
        if (response != null) {
            delivery.serve(entry, CacheStatus.Outcome.rendered(slot.fwd(), entry.status(), notStored),
                    request, response);
        }
    }

    /** XFetch: refresh a hot entry before it expires, with a probability that grows toward expiry. */
    private boolean refreshEarly(CachedResponse entry) {
        long lifetime = Math.max(1, entry.freshUntil() - entry.storedAt());
        double gap = -0.05 * lifetime * Math.log(ThreadLocalRandom.current().nextDouble(1e-9, 1));
        return clock.millis() + gap >= entry.freshUntil();
    }

    private boolean leaseForRefresh(String key, String token) {
        try {
            CacheStore.Lookup lease = store.lookup(CanonicalUrl.earlyRefresh(key), token, settings.lockTimeoutMillis(), true);
            return lease.outcome() == CacheStore.Outcome.LEASE;
        } catch (CacheUnavailableException e) {
            redisFailed(e);
            return false;
        }
    }

    private void releaseQuietly(String key, String token, CacheStore.Mark mark) {
        try {
            store.release(key, token, mark, HitForPass.MARK_MILLIS);
        } catch (CacheUnavailableException e) {
            redisFailed(e);
        }
    }

    /** After a failed refresh: the refresh lease is kept for {@code lockTimeoutMillis}, the back-off. */
    private void backOffQuietly(String key, String token) {
        try {
            store.backOff(key, token, settings.lockTimeoutMillis());
        } catch (CacheUnavailableException e) {
            redisFailed(e);
        }
    }

    /**
     * A lookup Redis answered with {@link CacheStore.Outcome#FULL}: it refused the lease for memory.
     * The request passes; the cache gives memory back.
     */
    private void full(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        pressure.refused(store, statistics, 0);
        statistics.bypass(BypassReason.REDIS_FULL);
        uncached(BypassReason.REDIS_FULL, request, response, chain);
    }

    /** Why a request passes after {@code e}: Redis refused for memory, or failed. */
    private static BypassReason failure(CacheUnavailableException e) {
        return e.outOfMemory() ? BypassReason.REDIS_FULL : BypassReason.REDIS_UNAVAILABLE;
    }

    private void redisFailed(CacheUnavailableException e) {
        redisFailed(e, 0);
    }

    /**
     * Redis failed: the circuit opens, and this node's local tier drops its copies. Unless Redis
     * refused a write for memory ({@link CacheUnavailableException#outOfMemory()}): it is up and
     * serves hits, so the circuit stays closed, and the cache gives memory back ({@link MemoryPressure});
     * or unless a bucket's slot is being resharded ({@link CacheUnavailableException#slotMigrating()}):
     * only this request passes.
     *
     * @param refusedBytes the size of the entry whose store failed, or 0
     */
    private void redisFailed(CacheUnavailableException e, long refusedBytes) {
        if (e.outOfMemory()) {
            pressure.refused(store, statistics, refusedBytes);
            return;
        }
        if (e.slotMigrating()) {
            // One bucket's slot in mid-resharding: this request passes, the other buckets stay cached.
            LOG.fine("A bucket of the page cache is being resharded, the request passes: " + e.getMessage());
            return;
        }
        if (circuit.allows()) {
            statistics.circuitOpened();
        }
        circuit.trip();
        // Redis failing for this node may fail its invalidation channel too: the safe side.
        localTier.dropAll();
        LOG.warning("Redis failed, the page cache is bypassed for " + settings.circuitBreakerMillis() + " ms: "
                + e.getMessage());
    }
}
