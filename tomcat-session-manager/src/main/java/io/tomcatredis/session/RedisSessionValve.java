package io.tomcatredis.session;

import io.tomcatredis.session.store.SessionStoreUnavailableException;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * The manager's valve in its context: answers 503 when Redis is unavailable for a request that
 * needs its session, rather than a stack trace or an error page for a 500, before Tomcat renders
 * error pages. Opens and ends the request scope itself only when the Host's
 * {@link RequestScopeValve} did not (a context without a Host).
 */
final class RedisSessionValve extends ValveBase {

    private final RedisSessionManager manager;

    RedisSessionValve(RedisSessionManager manager) {
        super(true);
        this.manager = manager;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        manager.requestEntered();
        try {
            invokeInScope(request, response);
        } finally {
            manager.requestLeft();
        }
    }

    private void invokeInScope(Request request, Response response) throws IOException, ServletException {
        if (!manager.getState().isAvailable()) {
            getNext().invoke(request, response);
            return;
        }
        boolean ownsScope = manager.scopeOf(request) == null;
        RequestScope previous = ownsScope ? manager.bindScope(request) : null;
        RequestScope scope = manager.currentScope();
        if (ownsScope) {
            SaveBeforeCommit.guard(request, response, scope);
        }
        SessionStoreUnavailableException unavailable = null;
        try {
            getNext().invoke(request, response);
        } catch (SessionStoreUnavailableException e) {
            unavailable = e;
        } finally {
            if (ownsScope) {
                manager.unbindScope(previous);
            }
        }
        if (unavailable == null) {
            unavailable = takeUnavailableError(request);
        }
        if (unavailable != null) {
            ScopeEnd.respondUnavailable(request, response, unavailable, manager.statistics());
        }
        if (ownsScope) {
            ScopeEnd.atEndOfDispatch(scope, request, response, manager.statistics());
        }
    }

    /** The servlet's exception, if Redis caused it: taken so Tomcat does not render it as a 500. */
    static SessionStoreUnavailableException takeUnavailableError(Request request) {
        Object error = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
        for (Throwable t = error instanceof Throwable throwable ? throwable : null; t != null; t = t.getCause()) {
            if (t instanceof SessionStoreUnavailableException unavailable) {
                request.removeAttribute(RequestDispatcher.ERROR_EXCEPTION);
                return unavailable;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }
}
