package io.tomcatredis.session;

import jakarta.servlet.ServletException;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * Opens the request scope of {@link RedisSessionManager} in the Host's pipeline, before any valve
 * of the context runs: an authenticator or another valve configured ahead of the manager may look
 * up the session, and what it finds must be saved like everything else. {@link RedisSessionValve}
 * saves the scope before the response is committed; this valve saves it afterwards only when that
 * valve never ran (a valve before it answered the request itself).
 */
final class RequestScopeValve extends ValveBase {

    private static final Log log = LogFactory.getLog(RequestScopeValve.class);

    private final RedisSessionManager manager;

    RequestScopeValve(RedisSessionManager manager) {
        super(true);
        this.manager = manager;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (request.getContext() == null || request.getContext().getManager() != manager
                || !manager.getState().isAvailable() || manager.currentRequest() != null) {
            getNext().invoke(request, response);
            return;
        }
        RequestSessions scope = manager.beginRequest();
        try {
            getNext().invoke(request, response);
        } finally {
            manager.detachRequest();
            if (!scope.isCompleted() && !request.isAsync()) {
                try {
                    manager.completeRequest(scope);
                } catch (RuntimeException e) {
                    log.error("Sessions of " + request.getRequestURI() + " could not be saved: " + e.getMessage());
                }
            }
        }
    }
}
