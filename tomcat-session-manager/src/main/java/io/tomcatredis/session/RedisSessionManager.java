package io.tomcatredis.session;

import io.tomcatredis.connection.InvalidSettingException;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.SessionChanges;
import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreStatistics;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import io.tomcatredis.session.store.StoredSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Session;
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
 * <p>Per request that uses the session: one HGETALL when the session is first looked up (however
 * often Tomcat calls {@link #findSession}), and one atomic save at the end, from a valve this
 * manager installs in its context. A request that never touches the session sends nothing. The
 * Redis layout is described in {@link SessionKeys}.
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
    private static final int SWEEP_BATCH_SIZE = 100;
    private static final int MAX_SWEEP_BATCHES = 100;

    private final ConfigurationAttributes attributes = new ConfigurationAttributes();
    private final ThreadLocal<RequestSessions> currentRequest = new ThreadLocal<>();
    private final RedisSessionValve valve = new RedisSessionValve(this);
    private final RequestScopeValve scopeValve = new RequestScopeValve(this);
    private final LongAdder requests = new LongAdder();

    private volatile SessionBackend backend;
    private volatile RedisSessionStore store;
    private volatile String activeKeyPrefix;

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
     * {@code waitReplicas}, {@code waitTimeoutMillis}.
     *
     * @return false for a name this class does not know, which Tomcat logs as a warning
     */
    public boolean setProperty(String name, String value) {
        return attributes.setIfKnown(name, value);
    }

    @Override
    public String getName() {
        return NAME;
    }

    /**
     * Installs the valve as soon as the manager joins its context: it must come before the
     * authenticator valve that Tomcat adds while the context starts, so that a FORM login's
     * session writes happen inside the request scope the valve saves.
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
        backend = SessionBackend.open(settings, webappClassLoader(), getContext().getName());
        store = backend.store();
        activeKeyPrefix = settings.keyPrefix();
        getContext().getServletContext().setAttribute(RedisSessions.CONTEXT_ATTRIBUTE,
                new RedisSessions(this, backend.jedis(), store.keys()));
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
        // Sessions live on in Redis: nothing is expired or written here.
        sessions.clear();
        SessionBackend closing = backend;
        backend = null;
        store = null;
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

    @Override
    public Session createSession(String sessionId) {
        RequestSessions current = currentRequest.get();
        if (current != null) {
            // Never hand out a fresh session while the user's own one cannot be read: that would
            // silently log them out.
            current.throwIfAnyUnavailable();
        }
        RedisSession session = (RedisSession) super.createSession(sessionId);
        session.tryAcquire();
        RequestSessions request = currentRequest.get();
        if (request != null) {
            request.add(session);
        } else {
            // Created outside a request (rare: a background task): persist it right away.
            try {
                save(session);
            } finally {
                release(session);
            }
        }
        return session;
    }

    /**
     * Finds a session in the current request, among sessions in use on this node, or in Redis.
     * A malformed id is rejected before any Redis call.
     *
     * @throws SessionStoreUnavailableException when Redis does not answer and this request
     *         already looked for this id once
     */
    @Override
    public Session findSession(String id) {
        if (id == null) {
            return null;
        }
        RequestSessions request = currentRequest.get();
        if (request != null) {
            RedisSession known = request.find(id);
            if (known != null || request.isKnownAbsent(id)) {
                return known;
            }
            request.throwIfUnavailable(id);
        }
        RedisSession session;
        try {
            session = acquire(id);
        } catch (SessionStoreUnavailableException e) {
            if (request == null) {
                throw e;
            }
            // The first lookup of a request is Tomcat's authenticator looking for a cached principal,
            // on every request that carries a session cookie. Answer "no session" to it, so a page
            // that never uses the session still renders (anonymously); any later lookup by the
            // application, and any attempt to create a replacement session, fails with 503.
            request.markUnavailable(id, e);
            return null;
        }
        if (request == null) {
            if (session != null) {
                // No request to save it at the end: a read-only view (e.g. for JMX or the manager app).
                release(session);
            }
            return session;
        }
        if (session == null) {
            request.markAbsent(id);
        } else {
            request.add(session);
        }
        return session;
    }

    private RedisSession acquire(String id) {
        while (true) {
            Session inUse = sessions.get(id);
            if (inUse instanceof RedisSession shared) {
                if (shared.tryAcquire()) {
                    return shared;
                }
                sessions.remove(id, shared);
                continue;
            }
            if (!SessionIds.isWellFormed(id, getSessionIdGenerator().getSessionIdLength() * 2)) {
                return null;
            }
            StoredSession stored = store().load(id);
            if (stored == null) {
                return null;
            }
            RedisSession loaded = (RedisSession) createEmptySession();
            loaded.restore(id, stored);
            loaded.tryAcquire();
            if (sessions.putIfAbsent(id, loaded) == null) {
                loaded.activate();
                return loaded;
            }
            // Another request on this node loaded the same session at the same time: share theirs.
        }
    }

    private void release(RedisSession session) {
        if (session.release()) {
            sessions.remove(session.getIdInternal(), session);
        }
    }

    @Override
    protected void changeSessionId(Session session, String newId, boolean notifySessionListeners,
            boolean notifyContainerListeners) {
        RedisSession redisSession = (RedisSession) session;
        String oldId = session.getIdInternal();
        if (redisSession.isPersisted() && !SessionKeys.baseId(oldId).equals(SessionKeys.baseId(newId))) {
            store().changeId(oldId, newId);
        }
        super.changeSessionId(session, newId, notifySessionListeners, notifyContainerListeners);
    }

    /** Deletes the session in Redis; true if this call removed it, or it was never stored. */
    boolean claimExpiry(RedisSession session) {
        if (!session.isPersisted() || store == null) {
            return true;
        }
        return store().delete(session.getIdInternal(), session.dataKeys());
    }

    /**
     * Sessions in Redis, for Tomcat's Manager webapp and JMX: found with SCAN, at most
     * {@value #MAX_LISTED_SESSIONS}, each a read-only copy (changes to it are not saved, but
     * {@code expire()} invalidates it everywhere).
     */
    @Override
    public Session[] findSessions() {
        RedisSessionStore current = store();
        List<Session> found = new ArrayList<>();
        for (String id : current.sessionIds(MAX_LISTED_SESSIONS)) {
            Session session = sessions.get(id);
            if (session == null) {
                StoredSession stored = current.load(id);
                if (stored != null) {
                    RedisSession copy = (RedisSession) createEmptySession();
                    copy.restore(id, stored);
                    session = copy;
                }
            }
            if (session != null) {
                found.add(session);
            }
        }
        return found.toArray(new Session[0]);
    }

    // JMX operations of ManagerBase look only at sessions in memory; these answer from Redis.

    @Override
    public String listSessionIds() {
        return String.join(" ", store().sessionIds(MAX_LISTED_SESSIONS));
    }

    @Override
    public String getSessionAttribute(String sessionId, String key) {
        Session session = findSession(sessionId);
        Object value = session == null ? null : session.getSession().getAttribute(key);
        return value == null ? null : value.toString();
    }

    @Override
    public void expireSession(String sessionId) {
        Session session = findSession(sessionId);
        if (session != null) {
            session.expire();
        }
    }

    @Override
    public long getLastAccessedTimestamp(String sessionId) {
        Session session = findSession(sessionId);
        return session == null ? -1 : session.getLastAccessedTime();
    }

    @Override
    public long getCreationTimestamp(String sessionId) {
        Session session = findSession(sessionId);
        return session == null ? -1 : session.getCreationTime();
    }

    /** Sessions of this webapp in Redis, on every node (the size of the expiry index). */
    @Override
    public int getActiveSessions() {
        RedisSessionStore current = store;
        return current == null ? 0 : (int) Math.min(Integer.MAX_VALUE, current.count());
    }

    /** Adds a session to those in use on this node; unlike the base class, asks Redis nothing. */
    @Override
    public void add(Session session) {
        sessions.put(session.getIdInternal(), session);
        int inUse = sessions.size();
        if (inUse > maxActive) {
            maxActive = inUse;
        }
    }

    /** Removes exactly this object: another object for the same id may be in use on this node. */
    @Override
    public void remove(Session session, boolean update) {
        String id = session.getIdInternal();
        Session inUse = id == null ? null : sessions.get(id);
        super.remove(session, update);
        if (inUse != null && inUse != session) {
            sessions.putIfAbsent(id, inUse);
        }
    }

    /**
     * Expires sessions whose deadline passed, whether or not any node holds them in memory: every
     * node sweeps the expiry index, and an atomic claim in Redis lets exactly one fire the
     * listeners. Runs every {@code processExpiresFrequency} background cycles.
     */
    @Override
    public void processExpires() {
        RedisSessionStore current = store;
        if (current == null) {
            return;
        }
        long start = System.currentTimeMillis();
        try {
            for (int batch = 0; batch < MAX_SWEEP_BATCHES; batch++) {
                List<String> due = current.dueForExpiry(System.currentTimeMillis(), SWEEP_BATCH_SIZE);
                for (String id : due) {
                    StoredSession stored = current.claimIfExpired(id, System.currentTimeMillis());
                    if (stored != null) {
                        RedisSession expiring = (RedisSession) createEmptySession();
                        expiring.restore(id, stored);
                        expiring.activate();
                        expiring.expireClaimed();
                    }
                }
                if (due.size() < SWEEP_BATCH_SIZE) {
                    break;
                }
            }
        } catch (SessionStoreUnavailableException e) {
            log.warn("Expiring the sessions of " + getContext().getName() + " is postponed: " + e.getMessage());
        } finally {
            processingTime += System.currentTimeMillis() - start;
        }
    }

    // ------------------------------------------------------------------ request scope, used by the valve

    RequestSessions beginRequest() {
        requests.increment();
        RequestSessions request = new RequestSessions();
        currentRequest.set(request);
        return request;
    }

    void detachRequest() {
        currentRequest.remove();
    }

    /** The scope of the request on this thread, or null. */
    RequestSessions currentRequest() {
        return currentRequest.get();
    }

    /**
     * Saves every live session the request used, then releases them.
     *
     * @throws io.tomcatredis.session.store.SessionStoreUnavailableException after trying them all,
     *         if any save failed
     */
    void completeRequest(RequestSessions request) {
        if (!request.complete()) {
            return;
        }
        RuntimeException failure = null;
        for (RedisSession session : request.sessions()) {
            try {
                if (session.isLive()) {
                    if (session.isLastUser()) {
                        // The session's data leaves this node: tell activation listeners first.
                        session.passivate();
                    }
                    save(session);
                }
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                release(session);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void save(RedisSession session) {
        SessionChanges changes = session.drainChanges(System.currentTimeMillis());
        try {
            if (store().save(session.getIdInternal(), changes)) {
                session.saved(changes);
            } else if (log.isDebugEnabled()) {
                log.debug("Session " + SessionIds.redact(session.getIdInternal())
                        + " was removed by another node during the request; not saved");
            }
        } catch (RuntimeException e) {
            session.saveFailed(changes);
            throw e;
        }
    }

    // ------------------------------------------------------------------ serialization

    SessionBackend backend() {
        return backend;
    }

    byte[] encodeOrWarn(String attributeName, Object value) {
        return backend.encodeOrWarn(attributeName, value);
    }

    Object decodeOrWarn(String sessionId, String attributeName, byte[] bytes) {
        return backend.decodeOrWarn(sessionId, attributeName, bytes);
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

    public long getFailures() {
        return statistics().failures();
    }

    /** Saves that fewer replicas than {@code waitReplicas} acknowledged within {@code waitTimeoutMillis}. */
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

    /** Session objects this node holds in memory (those of requests in flight). */
    public int getLocalSessionCount() {
        return sessions.size();
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

    private SessionStoreStatistics statistics() {
        RedisSessionStore current = store;
        return current == null ? EMPTY_STATISTICS : current.statistics();
    }

    private static final SessionStoreStatistics EMPTY_STATISTICS = new SessionStoreStatistics();

    // ------------------------------------------------------------------ helpers

    private RedisSessionStore store() {
        RedisSessionStore current = store;
        if (current == null) {
            throw new IllegalStateException("RedisSessionManager of " + getContext().getName() + " is not started");
        }
        return current;
    }

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
