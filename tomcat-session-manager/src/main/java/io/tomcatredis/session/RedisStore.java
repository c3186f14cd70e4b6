package io.tomcatredis.session;

import io.tomcatredis.connection.InvalidSettingException;
import io.tomcatredis.session.store.RedisSessionStore;
import io.tomcatredis.session.store.LoadResult;
import io.tomcatredis.session.store.SessionChanges;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.StoredSession;
import java.security.Principal;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Manager;
import org.apache.catalina.Session;
import org.apache.catalina.session.StandardSession;
import org.apache.catalina.session.StoreBase;

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

    private static final String STORE_NAME = "RedisStore";
    private static final int MAX_EXPIRED_KEYS = 1000;

    private final ConfigurationAttributes attributes = new ConfigurationAttributes();
    private volatile SessionBackend backend;

    /** {@code redisUri} with its password replaced by {@code ***}. */
    public String getRedisUri() {
        return attributes.redactedRedisUri();
    }

    /**
     * Sets an attribute by name: Tomcat's digester calls this for every attribute of the
     * {@code <Store>} element, the same names as {@link RedisSessionManager}'s.
     *
     * @return false for a name this class does not know, which Tomcat logs as a warning
     */
    public boolean setProperty(String name, String value) {
        return attributes.setIfKnown(name, value);
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
        backend = SessionBackend.open(settings, loader, context.getName());
        super.startInternal();
    }

    @Override
    protected synchronized void stopInternal() throws LifecycleException {
        super.stopInternal();
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

    @Override
    public Session load(String id) {
        if (!(store().load(id, 0) instanceof LoadResult.Loaded loaded)) {
            return null;
        }
        LoadedSession session = new LoadedSession(getManager());
        session.restore(id, loaded.session(), backend);
        return session;
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

    /** Writes the whole session afresh: PersistentManager hands over sessions leaving memory. */
    @Override
    public void save(Session session) {
        StandardSession standard = (StandardSession) session;
        Principal principal = standard.getPrincipal();
        SessionChanges changes = SessionChanges.created(standard.getCreationTimeInternal(),
                standard.getMaxInactiveInterval())
                .authentication(principal == null ? null : backend.encodeOrWarn("(principal)", principal),
                        standard.getAuthType());
        for (String name : Collections.list(standard.getAttributeNames())) {
            byte[] bytes = backend.encodeOrWarn(name, standard.getAttribute(name));
            if (bytes != null) {
                changes.setAttribute(name, bytes);
            }
        }
        store().save(standard.getIdInternal(), changes);
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
            restoreMetadata(sessionId, stored, bytes -> backend.decodeOrWarn(sessionId, "(principal)", bytes));
            for (Map.Entry<String, byte[]> entry : stored.attributes().entrySet()) {
                Object value = backend.decodeOrWarn(sessionId, entry.getKey(), entry.getValue());
                if (value != null) {
                    attributes.put(entry.getKey(), value);
                }
            }
        }
    }
}
