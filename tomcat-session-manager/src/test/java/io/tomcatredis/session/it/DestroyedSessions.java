package io.tomcatredis.session.it;

import io.tomcatredis.session.store.SessionKeys;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;

/**
 * Counts {@code sessionDestroyed} calls per session id without its route, across every node a test
 * registers it on: "listeners fire exactly once, on one node" is one count of 1.
 */
final class DestroyedSessions {

    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

    /** Adds the counting listener to {@code context} (a TomcatNode customizer calls this). */
    void register(Context context) {
        context.addServletContainerInitializer((classes, servletContext) -> servletContext.addListener(
                new HttpSessionListener() {
                    @Override
                    public void sessionDestroyed(HttpSessionEvent se) {
                        calls.computeIfAbsent(SessionKeys.baseId(se.getSession().getId()), k -> new AtomicInteger())
                                .incrementAndGet();
                    }
                }), null);
    }

    /** The calls per session id without route; a session never destroyed has no entry. */
    Map<String, AtomicInteger> calls() {
        return calls;
    }

    void clear() {
        calls.clear();
    }
}
