package io.tomcatredis.session;

import io.tomcatredis.connection.InvalidSettingException;
import io.tomcatredis.connection.KeyInvalidations;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.metrics.MBeanRegistrations;
import io.tomcatredis.session.store.PrincipalIndex;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreStatistics;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Session;
import org.apache.catalina.connector.Request;
import org.apache.catalina.session.ManagerBase;
import org.apache.catalina.session.StandardSession;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * A Tomcat {@code Manager} that keeps every {@code HttpSession} in Redis, so that any node serves
 * any request and sessions survive restarts and redeploys. Configure it in {@code context.xml}:
 *
 * <pre>{@code
 * <Manager className="io.tomcatredis.session.RedisSessionManager"
 *          redisUri="redis://localhost:6379" />
 * }</pre>
 *
 * <p>A thin façade over rooms with one job each: {@link RequestScope} (what one request or async
 * cycle uses, saved before the response commits and at its end), {@link SessionTable} (the objects
 * requests in flight use on this node), {@link SessionRepository} (Redis is the truth: loads,
 * version checks, saves, claims), {@link ChangeTracker} (what a save writes), {@link ExpirySweeper},
 * and the store with its layout ({@link SessionKeys}, {@link io.tomcatredis.session.store.SessionHashFormat}).
 *
 * <p>Per request that uses the session: one small script when the session is first looked up
 * (however often Tomcat calls {@link #findSession}), and one atomic save when the request ends.
 * A request that never touches the session sends nothing.
 *
 * <p>Attributes: {@code redisUri}, {@code timeoutMillis}, {@code maxConnections} (see
 * {@link RedisConnectionSettings}), {@code keyPrefix}, {@code serializer} ({@code kryo} or
 * {@code java}), {@code serialFilter} (a {@code jdk.serialFilter} pattern), and those of
 * {@link ManagerBase}. A bad value stops the context at startup with a message naming it.
 */
public class RedisSessionManager extends ManagerBase {

    private static final Log log = LogFactory.getLog(RedisSessionManager.class);
    private static final String NAME = "RedisSessionManager";
    private static final int MAX_LISTED_SESSIONS = 1000;
    /** Note on Tomcat's request under which its {@link RequestScope} lives for the whole async cycle. */
    private final String scopeNote = "io.tomcatredis.session.scope@" + Integer.toHexString(System.identityHashCode(this));

    private final ConfigurationAttributes attributes = new ConfigurationAttributes();
    private final ThreadLocal<RequestScope> currentScope = new ThreadLocal<>();
    private final ThreadLocal<PreScopeLookups> preScopeLookups = ThreadLocal.withInitial(PreScopeLookups::new);
    private final SessionTable table = new SessionTable();
    private final RedisSessionValve valve = new RedisSessionValve(this);
    private final RequestScopeValve scopeValve = new RequestScopeValve(this);
    private final LongAdder requests = new LongAdder();
    private volatile Clock clock = Clock.systemUTC();
    private volatile LongSupplier ticker = System::nanoTime;

    private volatile SessionBackend backend;
    private volatile SessionRepository repository;
    private volatile NearCache nearCache = new NearCache(0);
    /** Redis' invalidation messages, when loads may be answered from the near cache alone; else null. */
    private volatile KeyInvalidations invalidations;
    private volatile ExpirySweeper sweeper;
    private volatile ActiveSessionCount activeSessions;
    /** Sessions this node created ({@link #getSessionCounter()}). */
    private final LongAdder sessionsCreatedHere = new LongAdder();
    private volatile String activeKeyPrefix;
    private volatile MBeanRegistrations metrics;

    // ------------------------------------------------------------------ configuration attributes

    public String getRedisUri() {
        return attributes.redactedRedisUri();
    }

    public void setRedisUri(String redisUri) {
        attributes.set(RedisConnectionSettings.REDIS_URI, redisUri);
    }

    public String getTimeoutMillis() {
        return attributes.get(RedisConnectionSettings.TIMEOUT_MILLIS);
    }

    public void setTimeoutMillis(String timeoutMillis) {
        attributes.set(RedisConnectionSettings.TIMEOUT_MILLIS, timeoutMillis);
    }

    public String getMaxConnections() {
        return attributes.get(RedisConnectionSettings.MAX_CONNECTIONS);
    }

    public void setMaxConnections(String maxConnections) {
        attributes.set(RedisConnectionSettings.MAX_CONNECTIONS, maxConnections);
    }

    /** The configured prefix, or, once started, the prefix in use (the default if none was set). */
    public String getKeyPrefix() {
        return activeKeyPrefix != null ? activeKeyPrefix : attributes.get(SessionManagerSettings.KEY_PREFIX);
    }

    public void setKeyPrefix(String keyPrefix) {
        attributes.set(SessionManagerSettings.KEY_PREFIX, keyPrefix);
    }

    public String getSerializer() {
        return attributes.get(SessionManagerSettings.SERIALIZER);
    }

    public void setSerializer(String serializer) {
        attributes.set(SessionManagerSettings.SERIALIZER, serializer);
    }

    public String getSerialFilter() {
        return attributes.get(SessionManagerSettings.SERIAL_FILTER);
    }

    public void setSerialFilter(String serialFilter) {
        attributes.set(SessionManagerSettings.SERIAL_FILTER, serialFilter);
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Sets any other attribute by name, for {@code context.xml}: {@code sentinelMaster},
     * {@code sentinels}, {@code sentinelPassword}, {@code clusterNodes}, the TLS attributes
     * ({@code truststore}, {@code keystore}, ... see {@link io.tomcatredis.connection.TlsSettings}),
     * {@code waitReplicas}, {@code waitAofLocal}, {@code waitAofReplicas}, {@code waitTimeoutMillis},
     * {@code touchInterval}, {@code nearCacheSize}, {@code compressionThreshold}.
     *
     * @return false for a name this class does not know, which Tomcat logs as a warning
     */
    public boolean setProperty(String name, String value) {
        return attributes.setIfKnown(name, value);
    }

    /** The clock of the expiry sweep; the system clock unless a test sets another before start. */
    public void setClock(Clock clock) {
        this.clock = clock;
    }

    /**
     * The monotonic nanoseconds (as {@link System#nanoTime}) that time a run of the expiry sweep
     * against its budget; {@code System::nanoTime} unless a test sets another before start.
     */
    public void setTicker(LongSupplier ticker) {
        this.ticker = ticker;
    }

    @Override
    public String getName() {
        return NAME;
    }

    /**
     * Installs the valve as soon as the manager joins its context: it must come before the
     * authenticator valve that Tomcat adds while the context starts, so that a FORM login's
     * session writes happen inside the request scope.
     */
    @Override
    public void setContext(Context context) {
        Context previous = getContext();
        if (previous != null && previous != context) {
            previous.getPipeline().removeValve(valve);
        }
        super.setContext(context);
        if (context != null && previous != context) {
            context.getPipeline().addValve(valve);
        }
    }

    @Override
    protected void startInternal() throws LifecycleException {
        super.startInternal();
        SessionManagerSettings settings;
        try {
            settings = attributes.parse(defaultKeyPrefix());
        } catch (InvalidSettingException e) {
            throw new LifecycleException("RedisSessionManager of " + getContext().getName() + ": " + e.getMessage(), e);
        }
        backend = SessionBackend.open(settings, webappClassLoader(), getContext().getName(),
                getSessionAttributeValueClassNamePattern());
        try {
            backend.requireWaitAofSupport(settings.waitAof());
        } catch (InvalidSettingException e) {
            backend = null;
            throw new LifecycleException("RedisSessionManager of " + getContext().getName() + ": " + e.getMessage(), e);
        }
        String denied = backend.permissionProblem(settings, "RedisSessionManager of " + getContext().getName());
        if (denied != null) {
            backend = null;
            throw new LifecycleException(denied);
        }
        nearCache = new NearCache(settings.nearCacheSize());
        invalidations = settings.nearCacheStalenessMillis() > 0
                ? backend.trackInvalidations(settings, nearCacheInvalidations(nearCache, backend.store().keys())) : null;
        repository = new SessionRepository(backend, table, nearCache, () -> (RedisSession) createEmptySession(),
                getSessionIdGenerator().getSessionIdLength() * 2, this::willAttributeDistribute,
                invalidations == null ? null : invalidations::isCurrent);
        sweeper = new ExpirySweeper(repository, clock, ticker, this::expiryPeriodMillis);
        activeSessions = new ActiveSessionCount(backend.store(), ticker);
        backend.store().preloadScripts();
        backend.store().sampleClock();
        activeKeyPrefix = settings.keyPrefix();
        getContext().getServletContext().setAttribute(RedisSessions.CONTEXT_ATTRIBUTE,
                new RedisSessions(this, backend.store()));
        metrics = SessionMetrics.register(this, backend.store().statistics(), backend.pool());
        if (getContext().getParent() != null) {
            getContext().getParent().getPipeline().addValve(scopeValve);
        }
        setState(LifecycleState.STARTING);
    }

    @Override
    protected void stopInternal() throws LifecycleException {
        setState(LifecycleState.STOPPING);
        if (getContext().getParent() != null) {
            getContext().getParent().getPipeline().removeValve(scopeValve);
        }
        getContext().getServletContext().removeAttribute(RedisSessions.CONTEXT_ATTRIBUTE);
        MBeanRegistrations registered = metrics;
        metrics = null;
        if (registered != null) {
            registered.close();
        }
        // Sessions live on in Redis: nothing is expired or written here.
        KeyInvalidations tracking = invalidations;
        invalidations = null;
        if (tracking != null) {
            tracking.close();
        }
        table.clear();
        nearCache.clear();
        SessionBackend closing = backend;
        backend = null;
        repository = null;
        sweeper = null;
        activeSessions = null;
        if (closing != null) {
            closing.close();
        }
        super.stopInternal();
    }

    /** Nothing to load: sessions are read from Redis when a request asks for them. */
    @Override
    public void load() {
    }

    /** Nothing to unload: every request already saved its session in Redis. */
    @Override
    public void unload() {
    }

    // ------------------------------------------------------------------ sessions

    @Override
    protected StandardSession getNewSession() {
        return new RedisSession(this);
    }

    /**
     * Creates a session for the request on this thread; outside a request (another thread), the
     * session is written to Redis at once and every later change too.
     */
    @Override
    public Session createSession(String sessionId) {
        RequestScope scope = currentScope.get();
        if (scope != null) {
            // Never hand out a fresh session while the user's own one cannot be read: that would
            // silently log them out.
            scope.throwIfAnyUnavailable();
        }
        RedisSession session = (RedisSession) super.createSession(sessionId);
        sessionsCreatedHere.increment();
        ActiveSessionCount count = activeSessions;
        if (count != null) {
            count.created();
        }
        session.tryAcquire();
        if (scope != null) {
            scope.add(session);
        } else {
            try {
                repository().save(session, false);
            } finally {
                repository().release(session);
            }
        }
        return session;
    }

    /**
     * Finds a session: in the current request, or in Redis (an object other requests on this node
     * use is handed out only once Redis confirmed it is current). A malformed id is rejected
     * before any Redis call. Called outside a request (another thread, JMX), it returns the object
     * a request in flight uses, or a detached copy whose changes are written at once. While Tomcat
     * parses a request, before any valve runs, at most {@value PreScopeLookups#MAX_REDIS_LOOKUPS}
     * sessions per request are looked up in Redis, and a Redis failure answers "no session" (see
     * {@link PreScopeLookups}): a request with many session cookies costs no more than one with
     * five, and never a 500.
     *
     * <p>Once a Redis call of the request failed, no lookup of the request asks Redis again: the
     * first lookup of an id answers "no session" (Tomcat's authenticator looking for a cached
     * principal, so a page that never uses the session still renders), any later one fails.
     *
     * @throws SessionStoreUnavailableException when Redis failed in this request and this request
     *         already looked for this id once, or outside a request
     */
    @Override
    public Session findSession(String id) {
        if (id == null) {
            return null;
        }
        RequestScope scope = currentScope.get();
        if (scope == null) {
            PreScopeLookups lookups = preScopeLookups.get();
            if (lookups.isUnbounded()) {
                return repository().view(id);
            }
            // A malformed id costs no Redis call, so it uses none of the request's lookups.
            return repository().isWellFormed(id) ? lookups.find(id, repository()::view) : null;
        }
        RedisSession known = scope.find(id);
        if (known != null || scope.isKnownAbsent(id)) {
            return known;
        }
        scope.throwIfUnavailable(id);
        RedisSession session;
        try {
            // No second wait for a Redis that failed this request already.
            scope.throwIfAnyUnavailable();
            session = repository().acquire(id);
        } catch (SessionStoreUnavailableException e) {
            // The first lookup of a request is Tomcat's authenticator looking for a cached principal,
            // on every request that carries a session cookie. Answer "no session" to it, so a page
            // that never uses the session still renders (anonymously); any later lookup by the
            // application, and any attempt to create a replacement session, fails with 503.
            scope.markUnavailable(id, e);
            return null;
        }
        if (session == null) {
            scope.markAbsent(id);
        } else {
            scope.add(session);
        }
        return session;
    }

    @Override
    protected void changeSessionId(Session session, String newId, boolean notifySessionListeners,
            boolean notifyContainerListeners) {
        RedisSession redisSession = (RedisSession) session;
        String oldId = session.getIdInternal();
        if (redisSession.isPersisted() && !SessionKeys.baseId(oldId).equals(SessionKeys.baseId(newId))) {
            inRequest(() -> repository().store().changeId(oldId, newId, redisSession.changes().storedPrincipalName(),
                    redisSession.getMaxInactiveInterval()));
        }
        super.changeSessionId(session, newId, notifySessionListeners, notifyContainerListeners);
    }

    /** Claims an invalidation in Redis; true when this node won it and fires the listeners. */
    boolean claimInvalidation(RedisSession session) {
        SessionRepository current = repository;
        if (current == null) {
            return true;
        }
        boolean won = inRequest(() -> current.invalidate(session));
        ActiveSessionCount count = activeSessions;
        if (won && session.isPersisted() && count != null) {
            count.invalidated();
        }
        return won;
    }

    /**
     * Runs a Redis call for the request on this thread, if any: not at all once a call of the
     * request failed (it fails the same way at once), and a failure is remembered for the rest of
     * the request.
     */
    <T> T inRequest(Supplier<T> call) {
        RequestScope scope = currentScope.get();
        if (scope == null) {
            return call.get();
        }
        scope.throwIfAnyUnavailable();
        try {
            return call.get();
        } catch (SessionStoreUnavailableException e) {
            scope.markFailed(e);
            throw e;
        }
    }

    /**
     * Sessions in Redis, for Tomcat's Manager webapp and JMX: at most
     * {@value #MAX_LISTED_SESSIONS}, each the object a request in flight uses or a detached copy
     * (changes to it are written at once; {@code expire()} invalidates it everywhere).
     */
    @Override
    public Session[] findSessions() {
        List<Session> found = new ArrayList<>();
        for (String id : repository().store().sessionIds(MAX_LISTED_SESSIONS)) {
            Session session = repository().listed(id);
            if (session != null) {
                found.add(session);
            }
        }
        return found.toArray(new Session[0]);
    }

    // JMX operations of ManagerBase look only at sessions in memory; these answer from Redis, and
    // are never limited like the lookups of a request Tomcat is parsing.

    @Override
    public String listSessionIds() {
        return String.join(" ", repository().store().sessionIds(MAX_LISTED_SESSIONS));
    }

    @Override
    public String getSessionAttribute(String sessionId, String key) {
        Session session = administratively(() -> findSession(sessionId));
        Object value = session == null ? null : session.getSession().getAttribute(key);
        return value == null ? null : value.toString();
    }

    @Override
    public void expireSession(String sessionId) {
        Session session = administratively(() -> findSession(sessionId));
        if (session != null) {
            session.expire();
        }
    }

    /**
     * JMX operation: the ids (as their clients know them) of the sessions of user {@code user}
     * ({@code Principal.getName()}) in Redis whose deadline has not passed, separated by spaces,
     * from the principal index ({@link PrincipalIndex}), verified against each session's hash.
     *
     * @throws IllegalArgumentException when {@code user} is null
     * @throws SessionStoreUnavailableException when Redis fails
     */
    public String listSessionIdsOf(String user) {
        List<String> ids = new ArrayList<>();
        for (PrincipalIndex.Member member : sessionsOf(user)) {
            if (!member.expired()) {
                ids.add(member.id());
            }
        }
        return String.join(" ", ids);
    }

    /**
     * JMX operation: signs user {@code user} out everywhere: invalidates each of the user's
     * sessions in Redis as {@link #expireSession} does (listeners fire once per session, on the
     * node that wins its claim; every node stops serving it).
     *
     * @return how many sessions this call invalidated (not those another node invalidated meanwhile)
     * @throws IllegalArgumentException when {@code user} is null
     * @throws SessionStoreUnavailableException when Redis fails; sessions invalidated before the
     *         failure stay invalidated, the others are untouched (call again)
     */
    public int expireSessionsOf(String user) {
        int invalidated = 0;
        for (PrincipalIndex.Member member : sessionsOf(user)) {
            RedisSession session = inRequest(() -> repository().view(member.id()));
            if (session != null && session.expireHere()) {
                invalidated++;
            }
        }
        return invalidated;
    }

    /** The sessions of {@code user} in Redis (expired ones not yet swept included). */
    List<PrincipalIndex.Member> sessionsOf(String user) {
        if (user == null) {
            throw new IllegalArgumentException("The user name must not be null");
        }
        return inRequest(() -> {
            // Every form the user's sessions may be indexed under (keys rotate; see IndexedUserNames).
            List<PrincipalIndex.Member> sessions = new ArrayList<>();
            for (String indexed : repository().userNames().lookedUp(user)) {
                sessions.addAll(repository().store().principalIndex().sessions(indexed));
            }
            return sessions;
        });
    }

    @Override
    public long getLastAccessedTimestamp(String sessionId) {
        Session session = administratively(() -> findSession(sessionId));
        return session == null ? -1 : session.getLastAccessedTime();
    }

    @Override
    public long getCreationTimestamp(String sessionId) {
        Session session = administratively(() -> findSession(sessionId));
        return session == null ? -1 : session.getCreationTime();
    }

    /** Runs a lookup for an administrator or the application API, which no request budget limits. */
    <T> T administratively(Supplier<T> call) {
        PreScopeLookups lookups = preScopeLookups.get();
        lookups.enter();
        try {
            return call.get();
        } finally {
            lookups.leave();
        }
    }

    /**
     * Sessions of this webapp in Redis, on every node (the size of the expiry index): exact with
     * standalone Redis and Sentinel; on Redis Cluster as of the last expiry sweep, corrected by
     * what this node created and invalidated since (see {@link ActiveSessionCount}).
     */
    @Override
    public int getActiveSessions() {
        ActiveSessionCount current = activeSessions;
        return current == null ? 0 : (int) Math.min(Integer.MAX_VALUE, current.get());
    }

    /**
     * Sessions this node created since the manager started (the {@code Manager} interface's
     * "total number of sessions created by this manager"; {@code sessions_created_on_node_total}).
     * Tomcat's ManagerBase computes it as {@code getActiveSessions() + getExpiredSessions()}, which
     * here would read Redis, count every node's sessions and go back when another node invalidates
     * one: counted here instead, in memory.
     */
    @Override
    public long getSessionCounter() {
        return sessionsCreatedHere.sum();
    }

    /**
     * Sessions of this webapp in Redis: the same as {@link #getActiveSessions()} (which Tomcat's
     * name suggests is this node's, but is the webapp's on every node), named for its scope.
     * The same on every node: aggregate with {@code max()}, never {@code sum()}.
     */
    public int getSessionsInRedis() {
        return getActiveSessions();
    }

    /**
     * Session objects this node holds in memory for requests in flight: the same as
     * {@link #getLocalSessionCount()}, named for its scope. Per node: {@code sum()} adds up.
     */
    public int getSessionsInUseOnNode() {
        return getLocalSessionCount();
    }

    /** Session objects this node holds in memory for requests in flight. */
    public int getLocalSessionCount() {
        return table.size();
    }

    /**
     * Sessions whose deserialized attribute values this node keeps for their next load, at most
     * {@code nearCacheSize}; a kept value is used only where Redis holds exactly the bytes it was
     * read from or written as.
     */
    public int getNearCacheCount() {
        return nearCache.size();
    }

    /**
     * Loads answered from the near cache with no Redis round trip since start
     * ({@code nearCacheStalenessMillis} above 0; otherwise always 0).
     */
    public long getNearCacheHitCount() {
        return nearCache.answeredCount();
    }

    /**
     * Whether loads may be answered from the near cache now: {@code nearCacheStalenessMillis} is
     * above 0 and Redis' invalidation messages were confirmed complete within that many ms.
     */
    public boolean isNearCacheTrackingCurrent() {
        KeyInvalidations tracking = invalidations;
        return tracking != null && tracking.isCurrent();
    }

    private static KeyInvalidations.Listener nearCacheInvalidations(NearCache cache, SessionKeys keys) {
        return new KeyInvalidations.Listener() {
            @Override
            public void invalidated(String key) {
                String id = keys.sessionIdOfKey(key);
                if (id != null) {
                    cache.invalidated(id);
                }
            }

            @Override
            public void invalidatedAll() {
                cache.invalidatedAll();
            }
        };
    }

    /** Called by a session that got its id: requests in flight find it under that id. */
    @Override
    public void add(Session session) {
        if (session instanceof RedisSession redisSession) {
            table.put(redisSession);
        }
        int inUse = table.size();
        if (inUse > maxActive) {
            maxActive = inUse;
        }
    }

    /** Takes exactly this object out of the node's table (another object for its id may be in use). */
    @Override
    public void remove(Session session, boolean update) {
        super.remove(session, update);
        if (session instanceof RedisSession redisSession) {
            table.remove(redisSession);
        }
    }

    /**
     * Samples Redis' clock each background cycle (loads judge sessions clearly before their
     * deadline without a script with it, see {@link io.tomcatredis.session.store.RedisClock}), and
     * runs the expiry sweep every {@code processExpiresFrequency} cycles.
     */
    @Override
    public void backgroundProcess() {
        SessionBackend current = backend;
        if (current != null) {
            current.store().sampleClock();
        }
        super.backgroundProcess();
    }

    /**
     * Expires sessions whose deadline passed, on every node, each exactly once (see
     * {@link ExpirySweeper}). Runs every {@code processExpiresFrequency} background cycles.
     */
    @Override
    public void processExpires() {
        ExpirySweeper current = sweeper;
        if (current == null) {
            return;
        }
        long start = System.currentTimeMillis();
        try {
            current.sweep();
            refreshActiveSessions();
        } catch (SessionStoreUnavailableException e) {
            log.warn("Expiring the sessions of " + getContext().getName() + " is postponed: " + e.getMessage());
        } finally {
            processingTime += System.currentTimeMillis() - start;
        }
    }

    /**
     * How often Tomcat runs {@link #processExpires}, ms: {@code processExpiresFrequency} x the
     * {@code backgroundProcessorDelay} of the nearest container that has one (the engine's, 10 s,
     * by default); 0 when no container runs a background thread.
     */
    private long expiryPeriodMillis() {
        for (Container container = getContext(); container != null; container = container.getParent()) {
            if (container.getBackgroundProcessorDelay() > 0) {
                return container.getBackgroundProcessorDelay() * 1000L * Math.max(1, getProcessExpiresFrequency());
            }
        }
        return 0;
    }

    /** Best effort: the count stays as it was until the next sweep. */
    private void refreshActiveSessions() {
        ActiveSessionCount count = activeSessions;
        if (count == null) {
            return;
        }
        try {
            count.refreshIfUsed();
        } catch (SessionStoreUnavailableException e) {
            log.debug("Sessions of " + getContext().getName() + " not counted: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ request scope, used by the valves

    /**
     * Binds the scope of {@code request} to this thread, creating it on the request's first valve;
     * the same scope serves every dispatch of an async cycle.
     *
     * @return the scope bound before, to give back to {@link #unbindScope}
     */
    RequestScope bindScope(Request request) {
        RequestScope scope = (RequestScope) request.getNote(scopeNote);
        if (scope == null) {
            requests.increment();
            scope = new RequestScope(repository());
            // Redis failed while Tomcat parsed this request: its lookups inside answer 503 at once.
            preScopeLookups.get().takeFailures().forEach(scope::markUnavailable);
            request.setNote(scopeNote, scope);
        }
        RequestScope previous = currentScope.get();
        currentScope.set(scope);
        return previous;
    }

    /**
     * The thread enters the Host's pipeline (a request of any context): lookups are the
     * application's or an administrator's from here on, never limited.
     */
    void requestEntered() {
        preScopeLookups.get().enter();
    }

    /** The thread left the Host's pipeline: the next request it parses gets a fresh lookup budget. */
    void requestLeft() {
        preScopeLookups.get().leave();
    }

    void unbindScope(RequestScope previous) {
        if (previous == null) {
            currentScope.remove();
        } else {
            currentScope.set(previous);
        }
    }

    /** The scope of the request on this thread, or null. */
    RequestScope currentScope() {
        return currentScope.get();
    }

    /** The scope of {@code request}, or null when none was opened. */
    RequestScope scopeOf(Request request) {
        return (RequestScope) request.getNote(scopeNote);
    }

    SessionRepository repository() {
        SessionRepository current = repository;
        if (current == null) {
            throw new IllegalStateException("RedisSessionManager of " + getContext().getName() + " is not started");
        }
        return current;
    }

    // ------------------------------------------------------------------ JMX statistics

    public long getLoads() {
        return statistics().loads();
    }

    public long getSaves() {
        return statistics().saves();
    }

    public long getBytesRead() {
        return statistics().bytesRead();
    }

    public long getBytesWritten() {
        return statistics().bytesWritten();
    }

    /**
     * Attribute values not stored since start because they, or their session, were over
     * {@code maxAttributeBytes} or {@code maxSessionBytes}.
     */
    public long getAttributesTooLarge() {
        return statistics().attributesTooLarge();
    }

    public long getFailures() {
        return statistics().failures();
    }

    /**
     * Saves that fewer replicas than {@code waitReplicas} acknowledged, or that fewer append-only
     * files than {@code waitAofLocal}/{@code waitAofReplicas} ask had fsynced (or whose WAITAOF
     * failed), within {@code waitTimeoutMillis}.
     */
    public long getReplicationShortfalls() {
        return statistics().replicationShortfalls();
    }

    public double getMeanLoadMillis() {
        return statistics().meanLoadMillis();
    }

    public double getMaxLoadMillis() {
        return statistics().maxLoadMillis();
    }

    public double getMeanSaveMillis() {
        return statistics().meanSaveMillis();
    }

    public double getMaxSaveMillis() {
        return statistics().maxSaveMillis();
    }

    /** Requests that passed through this manager's valve. */
    public long getRequests() {
        return requests.sum();
    }

    /** Redis round trips per request through the valve, averaged since start. */
    public double getRoundTripsPerRequest() {
        long count = requests.sum();
        return count == 0 ? 0 : (double) statistics().roundTrips() / count;
    }

    /** The counters of the store in use; an empty set while stopped. */
    SessionStoreStatistics statistics() {
        SessionRepository current = repository;
        return current == null ? EMPTY_STATISTICS : current.store().statistics();
    }

    private static final SessionStoreStatistics EMPTY_STATISTICS = new SessionStoreStatistics();

    // ------------------------------------------------------------------ helpers

    private String defaultKeyPrefix() {
        Context context = getContext();
        String host = context.getParent() != null ? context.getParent().getName() : "localhost";
        return SessionKeys.defaultPrefix(host, context.getPath());
    }

    private ClassLoader webappClassLoader() {
        Context context = getContext();
        if (context.getLoader() != null && context.getLoader().getClassLoader() != null) {
            return context.getLoader().getClassLoader();
        }
        return Thread.currentThread().getContextClassLoader();
    }
}
