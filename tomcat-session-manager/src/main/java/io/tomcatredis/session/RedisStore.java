package io.tomcatredis.session;

import io.tomcatredis.connection.InvalidSettingException;
import io.tomcatredis.connection.metrics.MBeanRegistrations;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.LoadResult;
import io.tomcatredis.session.store.SessionChanges;
import io.tomcatredis.session.store.SessionIds;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.SessionStoreUnavailableException;
import io.tomcatredis.session.store.StoredSession;
import java.io.IOException;
import java.security.Principal;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Manager;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Session;
import org.apache.catalina.session.ManagerBase;
import org.apache.catalina.session.PersistentManagerBase;
import org.apache.catalina.session.StandardSession;
import org.apache.catalina.session.StoreBase;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * An {@link org.apache.catalina.Store} for Tomcat's {@code PersistentManager}, on the same Redis
 * layout ({@link SessionKeys}) and serializers as {@link RedisSessionManager}, for users who
 * prefer PersistentManager's swapping model:
 *
 * <pre>{@code
 * <Manager className="org.apache.catalina.session.PersistentManager" maxIdleSwap="60">
 *   <Store className="io.tomcatredis.session.RedisStore" redisUri="redis://localhost:6379" />
 * </Manager>
 * }</pre>
 *
 * Takes the same attributes as the manager: {@code redisUri}, {@code timeoutMillis},
 * {@code maxConnections}, {@code keyPrefix}, {@code serializer}, {@code serialFilter}.
 */
public class RedisStore extends StoreBase {

    private static final Log log = LogFactory.getLog(RedisStore.class);
    private static final String STORE_NAME = "RedisStore";
    private static final int MAX_EXPIRED_KEYS = 1000;

    private final ConfigurationAttributes attributes = new ConfigurationAttributes();
    private volatile SessionBackend backend;
    private StoreUnavailableValve unavailableValve;
    private MBeanRegistrations metrics;

    /** {@code redisUri} with its password replaced by {@code ***}. */
    public String getRedisUri() {
        return attributes.redactedRedisUri();
    }

    /**
     * Sets an attribute by name: Tomcat's digester calls this for every attribute of the
     * {@code <Store>} element, the same names as {@link RedisSessionManager}'s.
     *
     * @return false for a name this class does not know, which Tomcat logs as a warning; so are the
     *         near cache's ({@code nearCacheSize}, {@code nearCacheStalenessMillis}), which only
     *         {@link RedisSessionManager} has
     */
    public boolean setProperty(String name, String value) {
        return !SessionManagerSettings.MANAGER_ONLY.contains(name) && attributes.setIfKnown(name, value);
    }

    @Override
    public String getStoreName() {
        return STORE_NAME;
    }

    @Override
    protected synchronized void startInternal() throws LifecycleException {
        Context context = getManager().getContext();
        SessionManagerSettings settings;
        try {
            String host = context.getParent() != null ? context.getParent().getName() : "localhost";
            settings = attributes.parse(SessionKeys.defaultPrefix(host, context.getPath()));
        } catch (InvalidSettingException e) {
            throw new LifecycleException("RedisStore of " + context.getName() + ": " + e.getMessage(), e);
        }
        ClassLoader loader = context.getLoader() != null ? context.getLoader().getClassLoader()
                : Thread.currentThread().getContextClassLoader();
        backend = SessionBackend.open(settings, loader, context.getName(), valueClassNamePattern());
        try {
            backend.requireWaitAofSupport(settings.waitAof());
        } catch (InvalidSettingException e) {
            backend = null;
            throw new LifecycleException("RedisStore of " + context.getName() + ": " + e.getMessage(), e);
        }
        String denied = backend.permissionProblem(settings, "RedisStore of " + context.getName());
        if (denied != null) {
            backend = null;
            throw new LifecycleException(denied);
        }
        unavailableValve = new StoreUnavailableValve(context, () -> store().statistics());
        pipelineOf(context).addValve(unavailableValve);
        metrics = SessionMetrics.register(context, backend.store().statistics(), backend.pool(), plain -> plain);
        super.startInternal();
    }

    /** The Host's pipeline, which runs around Tomcat's rendering of a 500; the context's when it has no Host. */
    private static Pipeline pipelineOf(Context context) {
        return context.getParent() != null ? context.getParent().getPipeline() : context.getPipeline();
    }

    /** Tomcat's sessionAttributeValueClassNameFilter of the PersistentManager, applied as its FileStore applies it. */
    private Pattern valueClassNamePattern() {
        String filter = getManager() instanceof ManagerBase base ? base.getSessionAttributeValueClassNameFilter() : null;
        return filter == null || filter.isEmpty() ? null : Pattern.compile(filter);
    }

    @Override
    protected synchronized void stopInternal() throws LifecycleException {
        super.stopInternal();
        if (metrics != null) {
            metrics.close();
            metrics = null;
        }
        if (unavailableValve != null) {
            pipelineOf(getManager().getContext()).removeValve(unavailableValve);
            unavailableValve = null;
        }
        SessionBackend closing = backend;
        backend = null;
        if (closing != null) {
            closing.close();
        }
    }

    @Override
    public int getSize() {
        return (int) Math.min(Integer.MAX_VALUE, store().count());
    }

    @Override
    public String[] keys() {
        return store().sessionIds(Integer.MAX_VALUE).toArray(new String[0]);
    }

    /** Only the sessions whose deadline passed, from the expiry index, instead of every key. */
    @Override
    public String[] expiredKeys() {
        return store().dueForExpiry(System.currentTimeMillis(), MAX_EXPIRED_KEYS).toArray(new String[0]);
    }

    /**
     * The session stored under {@code id}, or null. As with Tomcat's {@code FileStore}, a session is
     * found only under the very id it was stored with ({@code meta:id}, route included): the key
     * holds the id without its route, but {@code PersistentManager} keeps sessions in memory by
     * exact id, so answering {@code X.r1}, {@code X.r2}... for {@code X.r0} would add one more
     * session object to the manager per made-up route. A malformed id never reaches Redis.
     *
     * @throws SessionStoreUnavailableException when Redis fails ({@link StoreUnavailableValve}
     *         answers 503)
     */
    @Override
    public Session load(String id) {
        if (!SessionIds.isWellFormed(id, getManager().getSessionIdGenerator().getSessionIdLength() * 2)) {
            return null;
        }
        if (!(store().load(id, 0) instanceof LoadResult.Loaded loaded) || !id.equals(storedId(id, loaded.session()))) {
            return null;
        }
        LoadedSession session = new LoadedSession(getManager());
        session.restore(id, loaded.session(), backend);
        return session;
    }

    /**
     * The id the session's clients know ({@code meta:id}); the requested one for a hash that does
     * not say (written by a RedisStore of an earlier release, until it is saved again).
     */
    private static String storedId(String requestedId, StoredSession stored) {
        return stored.id() != null ? stored.id() : requestedId;
    }

    /**
     * Expires the sessions whose deadline passed in Redis, whether or not this manager holds them
     * in memory ({@code StoreBase.processExpires} loads each one, and {@link #load} has nothing to
     * answer for a session past its deadline, so swapped-out sessions would never expire). Each
     * due session is claimed atomically, so exactly one node fires its listeners (once, with its
     * attributes as Redis held them); a session this manager holds in memory is left to the
     * manager's own expiry, only its stored copy is removed, as {@code StoreBase} does.
     */
    @Override
    public void processExpires() {
        if (!getState().isAvailable()) {
            return;
        }
        try {
            RedisSessionStore store = store();
            for (String due : store.dueForExpiry(System.currentTimeMillis(), MAX_EXPIRED_KEYS)) {
                StoredSession claimed = store.claimIfExpired(due);
                if (claimed == null) {
                    continue; // used again since, or another node claimed it
                }
                String id = storedId(due, claimed);
                if (getManager() instanceof PersistentManagerBase persistent && persistent.isLoaded(id)) {
                    continue;
                }
                LoadedSession expiring = new LoadedSession(getManager());
                expiring.restore(id, claimed, backend);
                // as StoreBase does: the listeners fire; the manager counts it expired (and its
                // remove() finds nothing left to delete: the claim deleted it)
                expiring.expire();
            }
        } catch (SessionStoreUnavailableException e) {
            log.warn("RedisStore of " + getManager().getContext().getName() + ": expired sessions are left for the"
                    + " next run, Redis is unavailable: " + e.getMessage());
        }
    }

    @Override
    public void remove(String id) {
        store().invalidate(id);
    }

    @Override
    public void clear() {
        for (String id : store().sessionIds(Integer.MAX_VALUE)) {
            remove(id);
        }
    }

    /**
     * Writes the whole session afresh: PersistentManager hands over sessions leaving memory.
     *
     * @throws IOException when Redis fails, or an attribute is over a size limit with
     *         {@code sizeLimitAction="fail"} (in {@code warn} mode it is left out with a WARN):
     *         {@code PersistentManager} then logs it and keeps the session in memory (it swaps out
     *         or backs up only what was saved), and goes on with the other sessions, as with any
     *         store that cannot write
     */
    @Override
    public void save(Session session) throws IOException {
        StandardSession standard = (StandardSession) session;
        Principal principal = standard.getPrincipal();
        // Written afresh under this id: nothing carries a meta:sealId over.
        String binding = SessionKeys.baseId(standard.getIdInternal());
        SessionChanges changes = SessionChanges.created(standard.getCreationTimeInternal(),
                standard.getMaxInactiveInterval())
                .id(standard.getIdInternal())
                .authentication(principal == null ? null : backend.encodeOrWarn(binding, SessionBackend.PRINCIPAL, principal),
                        standard.getAuthType(), principal == null ? null : backend.userNames().written(principal.getName()));
        if (changes.principalName() != null) {
            // Written afresh: the session joins its user's principal index (again, which is harmless).
            changes.indexedUnder(changes.principalName(), null, standard.getMaxInactiveInterval());
        }
        for (String name : Collections.list(standard.getAttributeNames())) {
            byte[] bytes = backend.encodeOrWarn(binding, name, standard.getAttribute(name));
            if (bytes != null) {
                changes.setAttribute(name, bytes);
            }
        }
        // Written afresh: what is over a limit is simply left out, nothing older survives it.
        List<SizeGuard.Excess> excess = backend.sizeGuard().excess(changes, Map.of());
        if (!excess.isEmpty()) {
            String refused = backend.reportExcess(standard.getIdInternal(), excess);
            if (backend.sizeGuard().fail()) {
                // PersistentManager logs it and keeps the session in memory, as for any store that cannot write
                throw new IOException(refused);
            }
            excess.forEach(over -> changes.removeAttribute(over.name()));
        }
        try {
            store().save(standard.getIdInternal(), changes);
            store().statistics().sessionBytes(changes.attributes().entrySet().stream()
                    .mapToLong(e -> e.getKey().length() + e.getValue().length).sum());
        } catch (SessionStoreUnavailableException e) {
            throw new IOException("RedisStore could not save session " + SessionIds.redact(standard.getIdInternal())
                    + ": " + e.getMessage(), e);
        }
    }

    private RedisSessionStore store() {
        SessionBackend current = backend;
        if (current == null) {
            throw new IllegalStateException("RedisStore is not started");
        }
        return current.store();
    }

    /** A session read back from Redis with every attribute deserialized, as PersistentManager expects. */
    private static final class LoadedSession extends RestoredSession {
        private static final long serialVersionUID = 1L;

        LoadedSession(Manager manager) {
            super(manager);
        }

        void restore(String sessionId, StoredSession stored, SessionBackend backend) {
            String binding = stored.binding(sessionId);
            restoreMetadata(sessionId, stored, bytes -> backend.decodeOrWarn(binding, sessionId, SessionBackend.PRINCIPAL,
                    bytes));
            for (Map.Entry<String, byte[]> entry : stored.attributes().entrySet()) {
                Object value = backend.decodeOrWarn(binding, sessionId, entry.getKey(), entry.getValue());
                if (value != null) {
                    attributes.put(entry.getKey(), value);
                }
            }
        }
    }
}
